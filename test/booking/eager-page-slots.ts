import { workingIntervals, type Interval, type Slot, type SlotPageLimits, type SlotPosition, type SlotQuery, type StaffSchedule } from '../../src/booking/availability.core.js';

/**
 * The sweep as it was before it became lazy and sliced (issue 12, item 1): every staff member's
 * working hours expanded over the whole range up front, then swept window after window with no
 * skipping. Kept as the oracle that the new sweep returns the same pages.
 */
export function eagerPageSlots(query: SlotQuery, schedules: readonly StaffSchedule[], limits: SlotPageLimits): { slots: Slot[]; next: SlotPosition | null } {
  const M = 60_000;
  const sweepCandidates = 2_000;
  const step = query.durationMinutes * M;
  const footprint = (query.durationMinutes + query.bufferMinutes) * M;
  const after = limits.after;
  const lower = Math.max(query.from, query.earliestStart, after?.start ?? Number.NEGATIVE_INFINITY);
  const slots: Slot[] = [];
  if (step <= 0 || lower >= query.to || schedules.length === 0 || limits.limit <= 0) return { slots, next: null };
  const merge = (list: readonly Interval[]) => {
    const out: Interval[] = [];
    for (const i of [...list].sort((a, b) => a.start - b.start)) {
      const last = out[out.length - 1];
      if (last && i.start <= last.end) out[out.length - 1] = { start: last.start, end: Math.max(last.end, i.end) };
      else out.push({ start: i.start, end: i.end });
    }
    return out;
  };
  const cursors = [...schedules]
    .sort((a, b) => (a.staffId < b.staffId ? -1 : a.staffId > b.staffId ? 1 : 0))
    .map((s) => ({ staffId: s.staffId, intervals: workingIntervals(s.hours, query.timeZone, lower, query.to), timeOff: merge(s.timeOff), busy: merge(s.busy), iv: 0, off: 0, busyAt: 0 }));
  const width = Math.max(1, Math.floor(sweepCandidates / cursors.length)) * step;
  let examined = 0;
  for (let w = lower; w < query.to; w += width) {
    const wEnd = Math.min(query.to, w + width);
    const window: Slot[] = [];
    for (const c of cursors) {
      while (c.iv < c.intervals.length && c.intervals[c.iv]!.end - step < w) c.iv += 1;
      for (let j = c.iv; j < c.intervals.length; j += 1) {
        const iv = c.intervals[j]!;
        if (iv.start >= wEnd) break;
        const k = Math.max(0, Math.ceil((w - iv.start) / step));
        for (let start = iv.start + k * step; start < wEnd && start + step <= iv.end; start += step) {
          if (start < lower) continue;
          examined += 1;
          if (after && start === after.start && c.staffId <= after.staffId) continue;
          while (c.off < c.timeOff.length && c.timeOff[c.off]!.end <= start) c.off += 1;
          const off = c.timeOff[c.off];
          if (off && off.start < start + step) continue;
          while (c.busyAt < c.busy.length && c.busy[c.busyAt]!.end <= start) c.busyAt += 1;
          const busy = c.busy[c.busyAt];
          if (busy && busy.start < start + footprint) continue;
          window.push({ start, end: start + step, staffId: c.staffId });
        }
      }
    }
    window.sort((a, b) => a.start - b.start || (a.staffId < b.staffId ? -1 : a.staffId > b.staffId ? 1 : 0));
    for (const slot of window) {
      slots.push(slot);
      if (slots.length === limits.limit) return { slots, next: { start: slot.start, staffId: slot.staffId } };
    }
    if (examined >= limits.maxCandidates && wEnd < query.to) return { slots, next: { start: wEnd, staffId: '' } };
  }
  return { slots, next: null };
}
