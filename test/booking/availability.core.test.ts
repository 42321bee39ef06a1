import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  checkSlot,
  findOverlappingHours,
  pageSlots,
  sweepSlots,
  SWEEP_CANDIDATES,
  type SlotPage,
  workingIntervals,
  type Slot,
  type SlotQuery,
  type StaffSchedule,
} from '../../src/booking/availability.core.js';
import { localToInstant, offsetAt } from '../../src/booking/timezone.core.js';
import { eagerPageSlots } from './eager-page-slots.js';

const H = 3_600_000;
const M = 60_000;
const at = (s: string) => Date.parse(s);
const everyDay = (start: number, end: number) => [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, startMinute: start, endMinute: end }));

/** Every free slot, by walking the pages (bounded: at most 10 000 pages). */
function computeSlots(query: SlotQuery, schedules: readonly StaffSchedule[], limit = 1_000, maxCandidates = 100_000): Slot[] {
  const out: Slot[] = [];
  let after = null;
  for (let page = 0; page < 10_000; page += 1) {
    const p = pageSlots(query, schedules, { limit, maxCandidates, after });
    out.push(...p.slots);
    if (!p.next) return out;
    after = p.next;
  }
  throw new Error('more than 10 000 pages');
}

/** The pre-pagination algorithm (issue 12 item 1), kept as the oracle: every slot, naively. */
function referenceSlots(query: SlotQuery, schedules: readonly StaffSchedule[]): Slot[] {
  const step = query.durationMinutes * M;
  const footprint = (query.durationMinutes + query.bufferMinutes) * M;
  const hit = (s: number, e: number, list: readonly { start: number; end: number }[]) => list.some((i) => i.start < e && s < i.end);
  const slots: Slot[] = [];
  for (const s of schedules) {
    for (const iv of workingIntervals(s.hours, query.timeZone, query.from, query.to)) {
      for (let start = iv.start; start + step <= iv.end; start += step) {
        if (start < query.from || start >= query.to || start < query.earliestStart) continue;
        if (hit(start, start + step, s.timeOff) || hit(start, start + footprint, s.busy)) continue;
        slots.push({ start, end: start + step, staffId: s.staffId });
      }
    }
  }
  return slots.sort((a, b) => a.start - b.start || (a.staffId < b.staffId ? -1 : a.staffId > b.staffId ? 1 : 0));
}

describe('time zones (Europe/Berlin, DST starts Sunday 2026-03-29 02:00 → 03:00)', () => {
  test('offsets before and after the change', () => {
    assert.equal(offsetAt(at('2026-03-28T12:00:00Z'), 'Europe/Berlin'), 1 * H);
    assert.equal(offsetAt(at('2026-03-29T12:00:00Z'), 'Europe/Berlin'), 2 * H);
  });
  test('local 09:00 maps to 08:00Z on Saturday and 07:00Z on Sunday', () => {
    assert.equal(localToInstant({ year: 2026, month: 3, day: 28 }, 9 * 60, 'Europe/Berlin'), at('2026-03-28T08:00:00Z'));
    assert.equal(localToInstant({ year: 2026, month: 3, day: 29 }, 9 * 60, 'Europe/Berlin'), at('2026-03-29T07:00:00Z'));
  });
  test('a wall time in the gap moves forward; an ambiguous one takes the first occurrence', () => {
    assert.equal(localToInstant({ year: 2026, month: 3, day: 29 }, 2 * 60 + 30, 'Europe/Berlin'), at('2026-03-29T01:30:00Z'));
    // 2026-10-25 02:30 happens twice in Berlin (CEST then CET): the first is 00:30Z.
    assert.equal(localToInstant({ year: 2026, month: 10, day: 25 }, 2 * 60 + 30, 'Europe/Berlin'), at('2026-10-25T00:30:00Z'));
  });
});

describe('computeSlots', () => {
  const base = { durationMinutes: 60, bufferMinutes: 0, earliestStart: 0 };

  test('slots follow local working hours across the DST change', () => {
    const schedule: StaffSchedule = { staffId: 's1', hours: everyDay(9 * 60, 12 * 60), timeOff: [], busy: [] };
    const slots = computeSlots(
      { ...base, timeZone: 'Europe/Berlin', from: at('2026-03-28T00:00:00Z'), to: at('2026-03-30T00:00:00Z') },
      [schedule],
    );
    assert.deepEqual(
      slots.map((s) => new Date(s.start).toISOString()),
      [
        '2026-03-28T08:00:00.000Z', '2026-03-28T09:00:00.000Z', '2026-03-28T10:00:00.000Z',
        '2026-03-29T07:00:00.000Z', '2026-03-29T08:00:00.000Z', '2026-03-29T09:00:00.000Z',
      ],
    );
  });

  test('working hours spanning the gap are an hour shorter in absolute time', () => {
    const schedule: StaffSchedule = { staffId: 's1', hours: [{ weekday: 0, startMinute: 60, endMinute: 4 * 60 }], timeOff: [], busy: [] };
    const slots = computeSlots(
      { ...base, timeZone: 'Europe/Berlin', from: at('2026-03-29T00:00:00Z'), to: at('2026-03-30T00:00:00Z') },
      [schedule],
    );
    // 01:00 CET = 00:00Z … 04:00 CEST = 02:00Z: two one-hour slots, not three.
    assert.deepEqual(slots.map((s) => new Date(s.start).toISOString()), ['2026-03-29T00:00:00.000Z', '2026-03-29T01:00:00.000Z']);
  });

  test('busy footprints (buffer included), time off and the lead time remove slots', () => {
    const schedule: StaffSchedule = {
      staffId: 's1',
      hours: everyDay(9 * 60, 13 * 60),
      timeOff: [{ start: at('2026-03-24T12:00:00Z'), end: at('2026-03-24T13:00:00Z') }],
      busy: [{ start: at('2026-03-24T10:00:00Z'), end: at('2026-03-24T10:40:00Z') }],
    };
    const slots = computeSlots(
      {
        timeZone: 'UTC',
        durationMinutes: 30,
        bufferMinutes: 10,
        from: at('2026-03-24T00:00:00Z'),
        to: at('2026-03-25T00:00:00Z'),
        earliestStart: at('2026-03-24T09:15:00Z'),
      },
      [schedule],
    );
    assert.deepEqual(
      slots.map((s) => new Date(s.start).toISOString().slice(11, 16)),
      // 09:00 before lead time; 09:30 footprint runs to 10:10 → clashes; 10:00, 10:30 busy; 12:xx off.
      ['11:00', '11:30'],
    );
  });

  test('checkSlot explains every refusal', () => {
    const schedule: StaffSchedule = {
      staffId: 's1',
      hours: everyDay(9 * 60, 17 * 60),
      timeOff: [{ start: at('2026-03-24T15:00:00Z'), end: at('2026-03-24T16:00:00Z') }],
      busy: [{ start: at('2026-03-24T10:00:00Z'), end: at('2026-03-24T10:40:00Z') }],
    };
    const q = { timeZone: 'UTC', durationMinutes: 30, bufferMinutes: 10, now: at('2026-03-24T08:00:00Z'), earliestStart: at('2026-03-24T09:00:00Z') };
    const reason = (iso: string) => {
      const r = checkSlot(q, schedule, at(iso));
      return r.ok ? 'ok' : r.reason;
    };
    assert.equal(reason('2026-03-24T07:00:00Z'), 'in_past');
    assert.equal(reason('2026-03-24T08:30:00Z'), 'lead_time');
    assert.equal(reason('2026-03-24T17:00:00Z'), 'outside_working_hours');
    assert.equal(reason('2026-03-24T16:45:00Z'), 'outside_working_hours');
    assert.equal(reason('2026-03-24T09:10:00Z'), 'not_aligned');
    assert.equal(reason('2026-03-24T15:30:00Z'), 'time_off');
    assert.equal(reason('2026-03-24T09:30:00Z'), 'busy');
    assert.equal(reason('2026-03-24T11:00:00Z'), 'ok');
  });

  test('overlapping weekly hours are detected', () => {
    assert.deepEqual(findOverlappingHours([{ weekday: 1, startMinute: 540, endMinute: 720 }, { weekday: 1, startMinute: 700, endMinute: 800 }]), [0, 1]);
    assert.equal(findOverlappingHours([{ weekday: 1, startMinute: 540, endMinute: 720 }, { weekday: 1, startMinute: 720, endMinute: 800 }]), null);
  });

  test('property: every computed slot passes checkSlot and misses every busy footprint', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe'),
        fc.integer({ min: 1, max: 12 }).map((n) => n * 15),
        fc.integer({ min: 0, max: 30 }),
        fc.array(fc.record({ startHour: fc.integer({ min: 0, max: 47 }), len: fc.integer({ min: 1, max: 8 }) }), { maxLength: 6 }),
        fc.integer({ min: 0, max: 364 }),
        (timeZone, duration, buffer, busySpec, dayOffset) => {
          const from = at('2026-01-01T00:00:00Z') + dayOffset * 24 * H;
          const to = from + 2 * 24 * H;
          const busy = busySpec.map((b) => ({ start: from + b.startHour * H, end: from + b.startHour * H + b.len * 20 * M }));
          const schedule: StaffSchedule = { staffId: 's', hours: everyDay(8 * 60, 18 * 60), timeOff: [], busy };
          const q = { timeZone, durationMinutes: duration, bufferMinutes: buffer, earliestStart: from };
          for (const slot of computeSlots({ ...q, from, to }, [schedule])) {
            assert.ok(checkSlot({ ...q, now: from }, schedule, slot.start).ok);
            for (const b of busy) assert.ok(slot.start + (duration + buffer) * M <= b.start || b.end <= slot.start);
          }
          assert.ok(workingIntervals(schedule.hours, timeZone, from, to).length >= 2);
        },
      ),
      { numRuns: 200 },
    );
  });

  test('property: the pages, whatever their limits, concatenate to exactly the naive slot list', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York'),
        fc.integer({ min: 1, max: 8 }).map((n) => n * 15),
        fc.integer({ min: 0, max: 20 }),
        fc.array(
          fc.record({
            staff: fc.integer({ min: 0, max: 3 }),
            startHour: fc.integer({ min: 0, max: 71 }),
            len: fc.integer({ min: 1, max: 8 }),
            off: fc.boolean(),
          }),
          { maxLength: 12 },
        ),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 0, max: 300 }),
        (timeZone, duration, buffer, spec, limit, maxCandidates, dayOffset) => {
          const from = at('2026-01-01T00:00:00Z') + dayOffset * 24 * H + 7 * M;
          const to = from + 3 * 24 * H;
          const ids = ['00000000-0000-4000-8000-000000000003', '00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000004'];
          const schedules: StaffSchedule[] = ids.map((staffId, i) => ({
            staffId,
            hours: i === 3 ? [] : everyDay(7 * 60 + i * 90, 19 * 60 - i * 30),
            timeOff: spec.filter((b) => b.off && b.staff === i).map((b) => ({ start: from + b.startHour * H, end: from + b.startHour * H + b.len * 25 * M })),
            busy: spec.filter((b) => !b.off && b.staff === i).map((b) => ({ start: from + b.startHour * H, end: from + b.startHour * H + b.len * 20 * M })),
          }));
          const q = { timeZone, durationMinutes: duration, bufferMinutes: buffer, earliestStart: from + 5 * H, from, to };
          assert.deepEqual(computeSlots(q, schedules, limit, maxCandidates), referenceSlots(q, schedules));
        },
      ),
      { numRuns: 150 },
    );
  });

  test('regression (issue 12 item 1): 100 staff, a 5-minute service, 31 days, open 24 h: one call stops at the limit', () => {
    const schedules: StaffSchedule[] = Array.from({ length: 100 }, (_, i) => ({
      staffId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      hours: everyDay(0, 24 * 60),
      timeOff: [],
      busy: [],
    }));
    const q = { timeZone: 'Europe/Berlin', durationMinutes: 5, bufferMinutes: 0, earliestStart: 0, from: at('2026-03-01T00:00:00Z'), to: at('2026-04-01T00:00:00Z') };
    const page = pageSlots(q, schedules, { limit: 500, maxCandidates: 20_000, after: null });
    assert.equal(page.slots.length, 500);
    assert.ok(page.examined <= 500 + SWEEP_CANDIDATES, `examined ${page.examined}`);
    assert.deepEqual(page.next, { start: page.slots[499]!.start, staffId: page.slots[499]!.staffId });
  });

  test('regression (issue 12 item 1): a fully booked grid costs at most the candidate budget per call, and the cursor still moves', () => {
    const from = at('2026-03-01T00:00:00Z');
    const to = at('2026-04-01T00:00:00Z');
    const schedules: StaffSchedule[] = Array.from({ length: 100 }, (_, i) => ({
      staffId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      hours: everyDay(0, 24 * 60),
      timeOff: [],
      busy: [{ start: from, end: to }],
    }));
    const q = { timeZone: 'UTC', durationMinutes: 5, bufferMinutes: 0, earliestStart: 0, from, to };
    const page = pageSlots(q, schedules, { limit: 500, maxCandidates: 20_000, after: null });
    assert.equal(page.slots.length, 0);
    assert.ok(page.examined >= 20_000 && page.examined <= 20_000 + SWEEP_CANDIDATES, `examined ${page.examined}`);
    assert.ok(page.next !== null && page.next.start > from && page.next.staffId === '');
  });

  test('property: the lazy, skipping, sliced sweep gives the same pages as the eager one it replaced', () => {
    // Random weekly hours (several ranges per weekday, days off), so whole days and long gaps are
    // skipped; time zones with DST changes; pages bounded by the limit only, so page boundaries
    // must match exactly, then every page of a short candidate budget concatenated.
    const hoursArb = fc
      .array(fc.record({ weekday: fc.integer({ min: 0, max: 6 }), start: fc.integer({ min: 0, max: 47 }), len: fc.integer({ min: 1, max: 24 }) }), { maxLength: 8 })
      .map((raw) => {
        const out: Array<{ weekday: number; startMinute: number; endMinute: number }> = [];
        for (const r of raw) {
          const h = { weekday: r.weekday, startMinute: r.start * 30, endMinute: Math.min(1440, (r.start + r.len) * 30) };
          if (!out.some((o) => o.weekday === h.weekday && o.startMinute < h.endMinute && h.startMinute < o.endMinute)) out.push(h);
        }
        return out;
      });
    fc.assert(
      fc.property(
        fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'America/Santiago'),
        fc.integer({ min: 1, max: 12 }).map((n) => n * 5),
        fc.integer({ min: 0, max: 20 }),
        fc.array(fc.record({ hours: hoursArb, busy: fc.array(fc.record({ at: fc.integer({ min: 0, max: 14 * 48 }), len: fc.integer({ min: 1, max: 40 }), off: fc.boolean() }), { maxLength: 6 }) }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 0, max: 365 }),
        fc.integer({ min: 1, max: 14 }),
        (timeZone, duration, buffer, staff, limit, maxCandidates, dayOffset, days) => {
          const from = at('2026-01-01T00:00:00Z') + dayOffset * 24 * H + 11 * M;
          const to = from + days * 24 * H;
          const schedules: StaffSchedule[] = staff.map((s, i) => ({
            staffId: `00000000-0000-4000-8000-${String((i * 7) % 5).padStart(12, '0')}`, // distinct, not in index order
            hours: s.hours,
            timeOff: s.busy.filter((b) => b.off).map((b) => ({ start: from + b.at * 30 * M, end: from + b.at * 30 * M + b.len * 10 * M })),
            busy: s.busy.filter((b) => !b.off).map((b) => ({ start: from + b.at * 30 * M, end: from + b.at * 30 * M + b.len * 10 * M })),
          }));
          const q = { timeZone, durationMinutes: duration, bufferMinutes: buffer, earliestStart: from + 3 * H, from, to };
          let after = null;
          for (let page = 0; page < 50; page += 1) {
            const limits = { limit, maxCandidates: 1_000_000, after };
            const lazy = pageSlots(q, schedules, limits);
            const eager = eagerPageSlots(q, schedules, limits);
            assert.deepEqual({ slots: lazy.slots, next: lazy.next }, { slots: eager.slots, next: eager.next });
            if (!lazy.next) break;
            after = lazy.next;
          }
          assert.deepEqual(computeSlots(q, schedules, limit, maxCandidates), referenceSlots(q, schedules));
        },
      ),
      { numRuns: 200 },
    );
  });

  test('regression (issue 12 item 1): working hours are expanded only for the days the page reaches', () => {
    const schedules: StaffSchedule[] = Array.from({ length: 100 }, (_, i) => ({
      staffId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      hours: everyDay(0, 24 * 60),
      timeOff: [],
      busy: [],
    }));
    const q = { timeZone: 'Europe/Berlin', durationMinutes: 5, bufferMinutes: 0, earliestStart: 0, from: at('2026-03-01T00:00:00Z'), to: at('2026-04-01T00:00:00Z') };
    const page = pageSlots(q, schedules, { limit: 500, maxCandidates: 20_000, after: null });
    assert.equal(page.slots.length, 500);
    // The eager sweep expanded all 32 local dates for every staff member (3 200 staff-days).
    assert.ok(page.expandedDays <= 100 * 3, `expanded ${page.expandedDays} staff-days`);
  });

  test('regression (issue 12 item 1): stretches where nobody works are skipped, not swept window by window', () => {
    // 3 000 staff (one-candidate windows) who work one hour on Sundays: the eager sweep stepped
    // through 6 days of empty 5-minute windows, 3 000 staff each (1 728 windows, 5 million steps);
    // the lazy one looks at most a day ahead per window, so it needs about one window per day.
    const schedules: StaffSchedule[] = Array.from({ length: 3_000 }, (_, i) => ({
      staffId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      hours: [{ weekday: 0, startMinute: 600, endMinute: 660 }],
      timeOff: [],
      busy: [],
    }));
    const from = at('2026-03-02T00:00:00Z'); // a Monday
    const q = { timeZone: 'UTC', durationMinutes: 5, bufferMinutes: 0, earliestStart: 0, from, to: from + 31 * 24 * H };
    const sweep = sweepSlots(q, schedules, { limit: 500, maxCandidates: 20_000, after: null });
    let windows = 0;
    let r = sweep.next();
    for (; !r.done; r = sweep.next()) windows += 1;
    const page: SlotPage = r.value;
    assert.equal(page.slots.length, 500);
    assert.equal(page.slots[0]!.start, at('2026-03-08T10:00:00Z'));
    assert.ok(windows <= 8, `${windows} windows`);
  });

  test('the sweep yields between windows of at most about SWEEP_CANDIDATES candidates', () => {
    const from = at('2026-03-01T00:00:00Z');
    const schedules: StaffSchedule[] = Array.from({ length: 100 }, (_, i) => ({
      staffId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      hours: everyDay(0, 24 * 60),
      timeOff: [{ start: from, end: from + 40 * 24 * H }],
      busy: [],
    }));
    const q = { timeZone: 'UTC', durationMinutes: 5, bufferMinutes: 0, earliestStart: 0, from, to: from + 31 * 24 * H };
    const sweep = sweepSlots(q, schedules, { limit: 500, maxCandidates: 20_000, after: null });
    let last = 0;
    let yields = 0;
    let r = sweep.next();
    for (; !r.done; r = sweep.next()) {
      assert.ok(r.value - last <= SWEEP_CANDIDATES, `a window examined ${r.value - last}`);
      last = r.value;
      yields += 1;
    }
    assert.ok(yields >= 9, `${yields} yields`);
    assert.ok(r.value.examined >= 20_000);
  });
});
