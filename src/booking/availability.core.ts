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

/** Free slots of every schedule, sorted by start then staff id. */
export function computeSlots(query: SlotQuery, schedules: readonly StaffSchedule[]): Slot[] {
  const step = query.durationMinutes * MINUTE;
  const footprint = (query.durationMinutes + query.bufferMinutes) * MINUTE;
  const slots: Slot[] = [];
  const dates = localDatesBetween(query.timeZone, query.from, query.to);
  for (const s of schedules) {
    for (const iv of intervalsOn(dates, s.hours, query.timeZone)) {
      for (let start = iv.start; start + step <= iv.end; start += step) {
        if (start < query.from || start >= query.to || start < query.earliestStart) continue;
        if (overlapsAny(start, start + step, s.timeOff)) continue;
        if (overlapsAny(start, start + footprint, s.busy)) continue;
        slots.push({ start, end: start + step, staffId: s.staffId });
      }
    }
  }
  return slots.sort((a, b) => a.start - b.start || (a.staffId < b.staffId ? -1 : a.staffId > b.staffId ? 1 : 0));
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
