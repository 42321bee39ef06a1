import { compareDates, localToInstant, nextDate, toLocalParts, weekdayOf, type LocalDate } from './timezone.core.js';

/**
 * Pure slot computation. No clock, no database: the caller passes `earliestStart` (now + lead
 * time) and every schedule. All instants are epoch milliseconds; intervals are half-open.
 *
 * The slot grid: within each working interval, slots start at the interval's start and repeat
 * every `durationMinutes` ("aligned to the service"). A slot [s, s + duration) must fit inside
 * the working interval and miss all time off; its footprint [s, s + duration + buffer) must miss
 * every active reservation's footprint, which is exactly what the database's exclusion
 * constraint enforces.
 */

export interface Interval {
  readonly start: number;
  readonly end: number;
}

export interface WeeklyHours {
  readonly weekday: number; // 0 = Sunday
  readonly startMinute: number;
  readonly endMinute: number; // ≤ 1440
}

export interface StaffSchedule {
  readonly staffId: string;
  readonly hours: readonly WeeklyHours[];
  readonly timeOff: readonly Interval[];
  /** Active reservations as [starts_at, blocked_until). */
  readonly busy: readonly Interval[];
}

export interface SlotQuery {
  readonly timeZone: string;
  readonly durationMinutes: number;
  readonly bufferMinutes: number;
  readonly from: number;
  readonly to: number;
  /** now + the tenant's lead time; nothing starts before it. */
  readonly earliestStart: number;
}

export interface Slot {
  readonly start: number;
  readonly end: number;
  readonly staffId: string;
}

const MINUTE = 60_000;

/** The local calendar dates that [from, to) touches in `timeZone`. */
export function localDatesBetween(timeZone: string, from: number, to: number): LocalDate[] {
  const dates: LocalDate[] = [];
  if (to <= from) return dates;
  const last = toLocalParts(to - 1, timeZone);
  const first = toLocalParts(from, timeZone);
  for (let date: LocalDate = { year: first.year, month: first.month, day: first.day }; compareDates(date, last) <= 0; date = nextDate(date)) {
    dates.push(date);
  }
  return dates;
}

// Wall time → instant is pure but costs several Intl calls; every staff member with the same
// hours asks the same question, so answers are memoised (bounded; cleared when full).
const instantMemo = new Map<string, number>();
function memoLocalToInstant(date: LocalDate, minute: number, timeZone: string): number {
  const key = `${timeZone}|${date.year}-${date.month}-${date.day}|${minute}`;
  let v = instantMemo.get(key);
  if (v === undefined) {
    if (instantMemo.size >= 50_000) instantMemo.clear();
    v = localToInstant(date, minute, timeZone);
    instantMemo.set(key, v);
  }
  return v;
}

function intervalsOn(dates: readonly LocalDate[], hours: readonly WeeklyHours[], timeZone: string): Interval[] {
  const out: Interval[] = [];
  for (const date of dates) {
    const weekday = weekdayOf(date);
    for (const h of hours) {
      if (h.weekday !== weekday) continue;
      const start = memoLocalToInstant(date, h.startMinute, timeZone);
      const end = memoLocalToInstant(date, h.endMinute, timeZone);
      if (end > start) out.push({ start, end });
    }
  }
  return out.sort((a, b) => a.start - b.start);
}

/** Absolute working intervals of `hours` on the local dates that [from, to) touches. */
export function workingIntervals(hours: readonly WeeklyHours[], timeZone: string, from: number, to: number): Interval[] {
  if (hours.length === 0) return [];
  return intervalsOn(localDatesBetween(timeZone, from, to), hours, timeZone);
}

function overlapsAny(start: number, end: number, intervals: readonly Interval[]): Interval | null {
  for (const i of intervals) if (i.start < end && start < i.end) return i;
  return null;
}

/** Sorted, disjoint union of `intervals`, so one forward-moving index can answer every overlap query. */
function mergeIntervals(intervals: readonly Interval[]): Interval[] {
  const sorted = [...intervals].sort((a, b) => a.start - b.start);
  const out: Interval[] = [];
  for (const i of sorted) {
    const last = out[out.length - 1];
    if (last && i.start <= last.end) out[out.length - 1] = { start: last.start, end: Math.max(last.end, i.end) };
    else out.push({ start: i.start, end: i.end });
  }
  return out;
}

/**
 * A position in the slot order (start, then staff id): a page resumes strictly after it.
 * `staffId: ''` sorts before every id, so `{ start, staffId: '' }` means "from `start` on".
 */
export interface SlotPosition {
  readonly start: number;
  readonly staffId: string;
}

export interface SlotPageLimits {
  /** Most slots in one page. */
  readonly limit: number;
  /**
   * Most candidate slots examined per call, free or not (the cost bound when most of the grid is
   * booked). Overshoot is at most one sweep window, about `SWEEP_CANDIDATES`.
   */
  readonly maxCandidates: number;
  readonly after: SlotPosition | null;
}

export interface SlotPage {
  readonly slots: Slot[];
  /** Where the next page resumes; null when [from, to) is exhausted. */
  readonly next: SlotPosition | null;
  /** Candidates examined (for tests and metrics). */
  readonly examined: number;
  /** Staff-days whose working hours were expanded into intervals (for tests: the sweep is lazy). */
  readonly expandedDays: number;
}

/** Most slots in one availability page (docs/booking.md, "Availability"). */
export const MAX_SLOTS_PER_PAGE = 500;
export const DEFAULT_SLOTS_PER_PAGE = 100;
/**
 * Most candidate slots one request examines, free or not: the CPU bound of one call whatever
 * the staff count, range and booking density (a few milliseconds).
 */
export const MAX_CANDIDATES_PER_REQUEST = 20_000;
/** Candidates per sweep window: the unit of work between two limit checks. */
export const SWEEP_CANDIDATES = 2_000;

const DAY = 86_400_000;

/** The local dates of one request, with wall time → instant answers shared by every staff member. */
interface Calendar {
  readonly dates: readonly LocalDate[];
  readonly weekdays: readonly number[];
  readonly timeZone: string;
  /** `dateIndex * 1441 + minute` → instant: numeric keys, so the hot path builds no strings. */
  readonly instants: Map<number, number>;
}

function instantOf(cal: Calendar, d: number, minute: number): number {
  const key = d * 1441 + minute;
  let v = cal.instants.get(key);
  if (v === undefined) {
    v = memoLocalToInstant(cal.dates[d]!, minute, cal.timeZone);
    cal.instants.set(key, v);
  }
  return v;
}

interface Cursor {
  readonly staffId: string;
  readonly hours: readonly WeeklyHours[];
  /** Working intervals of the dates expanded so far, sorted and disjoint. */
  readonly intervals: Interval[];
  readonly timeOff: readonly Interval[];
  readonly busy: readonly Interval[];
  /** Index of the first local date not expanded into `intervals` yet. */
  nextDate: number;
  iv: number;
  off: number;
  busyAt: number;
}

/**
 * Expands the cursor's working hours date by date until every interval that starts before
 * `until` is known. A local date's intervals start no earlier than about its local midnight, so
 * dates whose midnight is a day or more past `until` can wait: the work is proportional to the
 * days the sweep reaches, not to the range.
 */
function expandUntil(c: Cursor, cal: Calendar, until: number): void {
  while (c.nextDate < cal.dates.length && instantOf(cal, c.nextDate, 0) < until + DAY) {
    const d = c.nextDate;
    const weekday = cal.weekdays[d];
    const day: Interval[] = [];
    for (const h of c.hours) {
      if (h.weekday !== weekday) continue;
      const start = instantOf(cal, d, h.startMinute);
      const end = instantOf(cal, d, h.endMinute);
      if (end > start) day.push({ start, end });
    }
    if (day.length > 1) day.sort((a, b) => a.start - b.start);
    for (const iv of day) c.intervals.push(iv);
    c.nextDate += 1;
  }
}

/**
 * The earliest instant at which the cursor may still have a candidate at or after `w` (it has
 * been expanded to at least `w`); Infinity when it has none left.
 */
function earliestFrom(c: Cursor, cal: Calendar, step: number, w: number): number {
  while (c.iv < c.intervals.length && c.intervals[c.iv]!.end - step < w) c.iv += 1;
  const known = c.iv < c.intervals.length ? c.intervals[c.iv]!.start : Number.POSITIVE_INFINITY;
  const unexpanded = c.nextDate < cal.dates.length ? instantOf(cal, c.nextDate, 0) - DAY : Number.POSITIVE_INFINITY;
  return Math.min(known, unexpanded);
}

/**
 * One page of free slots, sorted by start then staff id, computed lazily: time is swept in
 * windows sized so that all staff together have about `SWEEP_CANDIDATES` candidates per window,
 * and the sweep stops as soon as the page is full or `maxCandidates` were examined. Working
 * hours are expanded only for the days the sweep reaches, and stretches where nobody works are
 * skipped, so the work per call is bounded by the limits, never by staff × range.
 *
 * A generator: it yields (the candidates examined so far) after each window, so a caller can
 * hand the event loop back between windows; the page is its return value. `pageSlots` runs it
 * to the end in one go.
 */
export function* sweepSlots(query: SlotQuery, schedules: readonly StaffSchedule[], limits: SlotPageLimits): Generator<number, SlotPage, void> {
  const step = query.durationMinutes * MINUTE;
  const footprint = (query.durationMinutes + query.bufferMinutes) * MINUTE;
  const after = limits.after;
  const lower = Math.max(query.from, query.earliestStart, after?.start ?? Number.NEGATIVE_INFINITY);
  const slots: Slot[] = [];
  const none = { slots, next: null, examined: 0, expandedDays: 0 };
  if (step <= 0 || lower >= query.to || limits.limit <= 0) return none;
  const working = schedules.filter((s) => s.hours.length > 0);
  if (working.length === 0) return none;
  const dates = localDatesBetween(query.timeZone, lower, query.to);
  const cal: Calendar = { dates, weekdays: dates.map(weekdayOf), timeZone: query.timeZone, instants: new Map() };
  const cursors: Cursor[] = [...working]
    .sort((a, b) => (a.staffId < b.staffId ? -1 : a.staffId > b.staffId ? 1 : 0))
    .map((s) => ({
      staffId: s.staffId,
      hours: s.hours,
      intervals: [],
      timeOff: mergeIntervals(s.timeOff),
      busy: mergeIntervals(s.busy),
      nextDate: 0,
      iv: 0,
      off: 0,
      busyAt: 0,
    }));
  const expandedDays = () => cursors.reduce((n, c) => n + c.nextDate, 0);
  const width = Math.max(1, Math.floor(SWEEP_CANDIDATES / cursors.length)) * step;
  let examined = 0;
  const window: Slot[] = [];
  let w = lower;
  while (w < query.to) {
    // Nobody can start a slot before `earliest`: jump there instead of sweeping empty windows.
    let earliest = Number.POSITIVE_INFINITY;
    for (const c of cursors) {
      expandUntil(c, cal, w);
      earliest = Math.min(earliest, earliestFrom(c, cal, step, w));
    }
    if (earliest >= query.to) break;
    if (earliest > w) w = earliest;
    const wEnd = Math.min(query.to, w + width);
    window.length = 0;
    for (const c of cursors) {
      expandUntil(c, cal, wEnd);
      // Intervals are sorted and disjoint per staff member (hours may not overlap on a weekday),
      // and windows only move forward, so every index below only moves forward too.
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
      if (slots.length === limits.limit) return { slots, next: { start: slot.start, staffId: slot.staffId }, examined, expandedDays: expandedDays() };
    }
    if (examined >= limits.maxCandidates && wEnd < query.to) return { slots, next: { start: wEnd, staffId: '' }, examined, expandedDays: expandedDays() };
    w = wEnd;
    yield examined;
  }
  return { slots, next: null, examined, expandedDays: expandedDays() };
}

/** `sweepSlots` in one synchronous call. */
export function pageSlots(query: SlotQuery, schedules: readonly StaffSchedule[], limits: SlotPageLimits): SlotPage {
  const sweep = sweepSlots(query, schedules, limits);
  for (;;) {
    const r = sweep.next();
    if (r.done) return r.value;
  }
}

export type SlotRejection = 'in_past' | 'lead_time' | 'outside_working_hours' | 'not_aligned' | 'time_off' | 'busy';
export type SlotCheck = { ok: true } | { ok: false; reason: SlotRejection; clash?: Interval };

/**
 * Whether one staff member can take the service at `start` (the rule behind create and
 * reschedule). `now` separates "in the past" from "inside the lead time".
 */
export function checkSlot(
  query: Omit<SlotQuery, 'from' | 'to'> & { now: number },
  schedule: StaffSchedule,
  start: number,
): SlotCheck {
  const step = query.durationMinutes * MINUTE;
  if (start < query.now) return { ok: false, reason: 'in_past' };
  if (start < query.earliestStart) return { ok: false, reason: 'lead_time' };
  const day = 86_400_000;
  const containing = workingIntervals(schedule.hours, query.timeZone, start - day, start + day).filter(
    (iv) => iv.start <= start && start < iv.end,
  );
  if (containing.length === 0) return { ok: false, reason: 'outside_working_hours' };
  const fitting = containing.filter((iv) => start + step <= iv.end);
  if (fitting.length === 0) return { ok: false, reason: 'outside_working_hours' };
  if (!fitting.some((iv) => (start - iv.start) % step === 0)) return { ok: false, reason: 'not_aligned' };
  const off = overlapsAny(start, start + step, schedule.timeOff);
  if (off) return { ok: false, reason: 'time_off', clash: off };
  const busy = overlapsAny(start, start + (query.durationMinutes + query.bufferMinutes) * MINUTE, schedule.busy);
  if (busy) return { ok: false, reason: 'busy', clash: busy };
  return { ok: true };
}

/** Weekly hours must not overlap on one weekday (half-open minute ranges). */
export function findOverlappingHours(hours: readonly WeeklyHours[]): [number, number] | null {
  for (let i = 0; i < hours.length; i += 1) {
    for (let j = i + 1; j < hours.length; j += 1) {
      const a = hours[i]!;
      const b = hours[j]!;
      if (a.weekday === b.weekday && a.startMinute < b.endMinute && b.startMinute < a.endMinute) return [i, j];
    }
  }
  return null;
}
