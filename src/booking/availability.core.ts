import { compareDates, localToInstant, nextDate, toLocalParts, weekdayOf, type LocalDate } from './timezone.core.js';

/**
 * Pure slot computation. No clock, no database: the caller passes `earliestStart` (now + lead
 * time) and every schedule. All instants are epoch milliseconds; intervals are half-open.
 *
 * The slot grid: within each working interval, slots start at the interval's start and repeat
 * every `intervalMinutes` (default `durationMinutes`, "aligned to the service"). A slot
 * [s, s + duration) must fit inside the working interval, miss all time off (tenant closures
 * included) and start before `latestStart` (the booking horizon); its footprint
 * [s - bufferBefore, s + duration + buffer) must miss every active reservation's footprint.
 * Per-date hours replace the weekly hours on their local date.
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

/** Hours on one local date (`YYYY-MM-DD`) that replace the weekly hours of that date. */
export interface DateHours {
  readonly date: string;
  readonly startMinute: number;
  readonly endMinute: number;
}

export interface StaffSchedule {
  readonly staffId: string;
  readonly hours: readonly WeeklyHours[];
  /** Per-date overrides; a date listed here uses only its own rows. */
  readonly dateHours?: readonly DateHours[];
  readonly timeOff: readonly Interval[];
  /** Active reservations' footprints as [blocked_from, blocked_until). */
  readonly busy: readonly Interval[];
  /** Start instants of the active reservations (for the per-day limit); a day either side of the range. */
  readonly bookingStarts?: readonly number[];
}

export interface SlotQuery {
  readonly timeZone: string;
  readonly durationMinutes: number;
  readonly bufferMinutes: number;
  /** Buffer before each slot (default 0): the footprint starts this much earlier. */
  readonly bufferBeforeMinutes?: number;
  /** Slot grid step (default `durationMinutes`). */
  readonly intervalMinutes?: number | null;
  readonly from: number;
  readonly to: number;
  /** now + the tenant's lead time; nothing starts before it. */
  readonly earliestStart: number;
  /** now + the booking horizon; nothing starts at or after it (default: no horizon). */
  readonly latestStart?: number;
  /** Most active bookings per staff member per local date; a full date offers nothing (default: unlimited). */
  readonly maxPerDay?: number | null;
}

/**
 * The local dates (as [midnight, next midnight) in `timeZone`) on which `starts` holds at
 * least `max` bookings: no further slot may start inside them.
 */
export function fullDays(starts: readonly number[], timeZone: string, max: number | null | undefined): Interval[] {
  if (max === null || max === undefined || starts.length < max) return [];
  const counts = new Map<string, { date: LocalDate; n: number }>();
  for (const s of starts) {
    const p = toLocalParts(s, timeZone);
    const date = { year: p.year, month: p.month, day: p.day };
    const key = formatDate(date);
    const c = counts.get(key);
    if (c) c.n += 1;
    else counts.set(key, { date, n: 1 });
  }
  const out: Interval[] = [];
  for (const { date, n } of counts.values()) {
    if (n >= max) out.push({ start: memoLocalToInstant(date, 0, timeZone), end: memoLocalToInstant(nextDate(date), 0, timeZone) });
  }
  return out.sort((a, b) => a.start - b.start);
}

/** `YYYY-MM-DD` of a local date. */
export function formatDate(d: LocalDate): string {
  return `${String(d.year).padStart(4, '0')}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;
}

/** The working hours of `date`: its per-date rows when it has any, else the weekly hours of its weekday. */
function hoursOn(date: LocalDate, weekday: number, hours: readonly WeeklyHours[], byDate: ReadonlyMap<string, readonly DateHours[]> | null): ReadonlyArray<{ startMinute: number; endMinute: number }> {
  const special = byDate?.get(formatDate(date));
  if (special) return special;
  return hours.filter((h) => h.weekday === weekday);
}

function groupByDate(dateHours: readonly DateHours[] | undefined): Map<string, DateHours[]> | null {
  if (!dateHours || dateHours.length === 0) return null;
  const m = new Map<string, DateHours[]>();
  for (const h of dateHours) {
    const list = m.get(h.date);
    if (list) list.push(h);
    else m.set(h.date, [h]);
  }
  return m;
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

function intervalsOn(dates: readonly LocalDate[], hours: readonly WeeklyHours[], timeZone: string, byDate: ReadonlyMap<string, readonly DateHours[]> | null = null): Interval[] {
  const out: Interval[] = [];
  for (const date of dates) {
    const weekday = weekdayOf(date);
    for (const h of hoursOn(date, weekday, hours, byDate)) {
      const start = memoLocalToInstant(date, h.startMinute, timeZone);
      const end = memoLocalToInstant(date, h.endMinute, timeZone);
      if (end > start) out.push({ start, end });
    }
  }
  return out.sort((a, b) => a.start - b.start);
}

/** Absolute working intervals of `hours` on the local dates that [from, to) touches. */
export function workingIntervals(hours: readonly WeeklyHours[], timeZone: string, from: number, to: number, dateHours?: readonly DateHours[]): Interval[] {
  const byDate = groupByDate(dateHours);
  if (hours.length === 0 && !byDate) return [];
  return intervalsOn(localDatesBetween(timeZone, from, to), hours, timeZone, byDate);
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
  readonly byDate: ReadonlyMap<string, readonly DateHours[]> | null;
  /** Working intervals of the dates expanded so far, sorted and disjoint. */
  readonly intervals: Interval[];
  readonly timeOff: readonly Interval[];
  readonly busy: readonly Interval[];
  /** Local dates at the per-day limit, sorted: nothing may start inside them. */
  readonly full: readonly Interval[];
  fullAt: number;
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
    for (const h of hoursOn(cal.dates[d]!, weekday!, c.hours, c.byDate)) {
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
function earliestFrom(c: Cursor, cal: Calendar, length: number, w: number): number {
  while (c.iv < c.intervals.length && c.intervals[c.iv]!.end - length < w) c.iv += 1;
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
  const length = query.durationMinutes * MINUTE;
  const step = (query.intervalMinutes ?? query.durationMinutes) * MINUTE;
  const before = (query.bufferBeforeMinutes ?? 0) * MINUTE;
  const footprint = (query.durationMinutes + query.bufferMinutes) * MINUTE;
  const after = limits.after;
  const lower = Math.max(query.from, query.earliestStart, after?.start ?? Number.NEGATIVE_INFINITY);
  const upper = Math.min(query.to, query.latestStart ?? Number.POSITIVE_INFINITY);
  const slots: Slot[] = [];
  const none = { slots, next: null, examined: 0, expandedDays: 0 };
  if (step <= 0 || length <= 0 || lower >= upper || limits.limit <= 0) return none;
  const working = schedules.filter((s) => s.hours.length > 0 || (s.dateHours?.length ?? 0) > 0);
  if (working.length === 0) return none;
  const dates = localDatesBetween(query.timeZone, lower, query.to);
  const cal: Calendar = { dates, weekdays: dates.map(weekdayOf), timeZone: query.timeZone, instants: new Map() };
  const cursors: Cursor[] = [...working]
    .sort((a, b) => (a.staffId < b.staffId ? -1 : a.staffId > b.staffId ? 1 : 0))
    .map((s) => ({
      staffId: s.staffId,
      hours: s.hours,
      byDate: groupByDate(s.dateHours),
      intervals: [],
      timeOff: mergeIntervals(s.timeOff),
      busy: mergeIntervals(s.busy),
      full: fullDays(s.bookingStarts ?? [], query.timeZone, query.maxPerDay),
      fullAt: 0,
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
  while (w < upper) {
    // Nobody can start a slot before `earliest`: jump there instead of sweeping empty windows.
    let earliest = Number.POSITIVE_INFINITY;
    for (const c of cursors) {
      expandUntil(c, cal, w);
      earliest = Math.min(earliest, earliestFrom(c, cal, length, w));
    }
    if (earliest >= upper) break;
    if (earliest > w) w = earliest;
    const wEnd = Math.min(upper, w + width);
    window.length = 0;
    for (const c of cursors) {
      expandUntil(c, cal, wEnd);
      // Intervals are sorted and disjoint per staff member (hours may not overlap on a weekday),
      // and windows only move forward, so every index below only moves forward too.
      while (c.iv < c.intervals.length && c.intervals[c.iv]!.end - length < w) c.iv += 1;
      for (let j = c.iv; j < c.intervals.length; j += 1) {
        const iv = c.intervals[j]!;
        if (iv.start >= wEnd) break;
        const k = Math.max(0, Math.ceil((w - iv.start) / step));
        for (let start = iv.start + k * step; start < wEnd && start + length <= iv.end; start += step) {
          if (start < lower) continue;
          examined += 1;
          if (after && start === after.start && c.staffId <= after.staffId) continue;
          while (c.off < c.timeOff.length && c.timeOff[c.off]!.end <= start) c.off += 1;
          const off = c.timeOff[c.off];
          if (off && off.start < start + length) continue;
          while (c.busyAt < c.busy.length && c.busy[c.busyAt]!.end <= start - before) c.busyAt += 1;
          const busy = c.busy[c.busyAt];
          if (busy && busy.start < start + footprint) continue;
          while (c.fullAt < c.full.length && c.full[c.fullAt]!.end <= start) c.fullAt += 1;
          const full = c.full[c.fullAt];
          if (full && full.start <= start) continue;
          window.push({ start, end: start + length, staffId: c.staffId });
        }
      }
    }
    window.sort((a, b) => a.start - b.start || (a.staffId < b.staffId ? -1 : a.staffId > b.staffId ? 1 : 0));
    for (const slot of window) {
      slots.push(slot);
      if (slots.length === limits.limit) return { slots, next: { start: slot.start, staffId: slot.staffId }, examined, expandedDays: expandedDays() };
    }
    if (examined >= limits.maxCandidates && wEnd < upper) return { slots, next: { start: wEnd, staffId: '' }, examined, expandedDays: expandedDays() };
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

export type SlotRejection = 'in_past' | 'lead_time' | 'outside_booking_window' | 'outside_working_hours' | 'not_aligned' | 'time_off' | 'day_full' | 'busy';
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
  const length = query.durationMinutes * MINUTE;
  const step = (query.intervalMinutes ?? query.durationMinutes) * MINUTE;
  if (start < query.now) return { ok: false, reason: 'in_past' };
  if (start < query.earliestStart) return { ok: false, reason: 'lead_time' };
  if (query.latestStart !== undefined && start >= query.latestStart) return { ok: false, reason: 'outside_booking_window' };
  const day = 86_400_000;
  const containing = workingIntervals(schedule.hours, query.timeZone, start - day, start + day, schedule.dateHours).filter(
    (iv) => iv.start <= start && start < iv.end,
  );
  if (containing.length === 0) return { ok: false, reason: 'outside_working_hours' };
  const fitting = containing.filter((iv) => start + length <= iv.end);
  if (fitting.length === 0) return { ok: false, reason: 'outside_working_hours' };
  if (!fitting.some((iv) => (start - iv.start) % step === 0)) return { ok: false, reason: 'not_aligned' };
  const off = overlapsAny(start, start + length, schedule.timeOff);
  if (off) return { ok: false, reason: 'time_off', clash: off };
  // The per-day limit is a rule of the whole date, a clash is about one slot: on a full date no
  // other slot would do either, so the limit answers first (422, not a 409 that invites a retry).
  const full = fullDays(schedule.bookingStarts ?? [], query.timeZone, query.maxPerDay).find((d) => d.start <= start && start < d.end);
  if (full) return { ok: false, reason: 'day_full', clash: full };
  const before = (query.bufferBeforeMinutes ?? 0) * MINUTE;
  const busy = overlapsAny(start - before, start + (query.durationMinutes + query.bufferMinutes) * MINUTE, schedule.busy);
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
