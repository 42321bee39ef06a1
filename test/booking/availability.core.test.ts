import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { checkSlot, computeSlots, findOverlappingHours, workingIntervals, type StaffSchedule } from '../../src/booking/availability.core.js';
import { localToInstant, offsetAt } from '../../src/booking/timezone.core.js';

const H = 3_600_000;
const M = 60_000;
const at = (s: string) => Date.parse(s);
const everyDay = (start: number, end: number) => [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, startMinute: start, endMinute: end }));

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
});
