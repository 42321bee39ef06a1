import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { checkSlot, fullDays, pageSlots, type SlotQuery, type StaffSchedule } from '../../src/booking/availability.core.js';
import { formatLocalDateTime, parseLocalDate } from '../../src/booking/timezone.core.js';

/** The pure side of the availability rules (docs/booking.md, "Availability rules"). */
const M = 60_000;
const at = (s: string) => Date.parse(s);
const iso = (t: number) => new Date(t).toISOString().slice(11, 16);
const base: SlotQuery = { timeZone: 'UTC', durationMinutes: 60, bufferMinutes: 0, from: at('2026-03-24T00:00:00Z'), to: at('2026-03-25T00:00:00Z'), earliestStart: 0 };
const staff = (over: Partial<StaffSchedule> = {}): StaffSchedule => ({
  staffId: '00000000-0000-4000-8000-000000000001',
  hours: [{ weekday: 2, startMinute: 9 * 60, endMinute: 12 * 60 }],
  timeOff: [],
  busy: [],
  ...over,
});
const starts = (q: SlotQuery, s: StaffSchedule) => pageSlots(q, [s], { limit: 500, maxCandidates: 100_000, after: null }).slots.map((x) => iso(x.start));

describe('availability rules (pure)', () => {
  test('interval apart from duration; checkSlot agrees with every offered slot and refuses off-grid starts', () => {
    const q = { ...base, intervalMinutes: 45 };
    assert.deepEqual(starts(q, staff()), ['09:00', '09:45', '10:30']);
    assert.deepEqual(checkSlot({ ...q, now: 0 }, staff(), at('2026-03-24T09:45:00Z')), { ok: true });
    assert.equal((checkSlot({ ...q, now: 0 }, staff(), at('2026-03-24T10:00:00Z')) as { reason: string }).reason, 'not_aligned');
  });

  test('buffer before: a busy footprint ending within the buffer removes the slot', () => {
    const s = staff({ busy: [{ start: at('2026-03-24T08:00:00Z'), end: at('2026-03-24T09:20:00Z') }] });
    assert.deepEqual(starts({ ...base, intervalMinutes: 30, bufferBeforeMinutes: 15 }, s), ['10:00', '10:30', '11:00']);
    assert.deepEqual(starts({ ...base, intervalMinutes: 30 }, s), ['09:30', '10:00', '10:30', '11:00']);
    assert.equal((checkSlot({ ...base, bufferBeforeMinutes: 15, intervalMinutes: 30, now: 0 }, s, at('2026-03-24T09:30:00Z')) as { reason: string }).reason, 'busy');
  });

  test('horizon: nothing starts at or after latestStart', () => {
    const q = { ...base, latestStart: at('2026-03-24T10:00:00Z') };
    assert.deepEqual(starts(q, staff()), ['09:00']);
    assert.equal((checkSlot({ ...q, now: 0 }, staff(), at('2026-03-24T10:00:00Z')) as { reason: string }).reason, 'outside_booking_window');
  });

  test('per-date hours replace the weekly hours on their date only', () => {
    const s = staff({ dateHours: [{ date: '2026-03-24', startMinute: 18 * 60, endMinute: 20 * 60 }] });
    assert.deepEqual(starts(base, s), ['18:00', '19:00']);
    const nextWeek = { ...base, from: at('2026-03-31T00:00:00Z'), to: at('2026-04-01T00:00:00Z') };
    assert.deepEqual(starts(nextWeek, s), ['09:00', '10:00', '11:00']);
    const weekdayless = staff({ hours: [], dateHours: [{ date: '2026-03-24', startMinute: 0, endMinute: 60 }] });
    assert.deepEqual(starts(base, weekdayless), ['00:00'], 'a staff member with no weekly hours can still work one date');
  });

  test('per-day limit: a date holding max bookings offers nothing; counted in the tenant zone', () => {
    const booked = [at('2026-03-24T11:00:00Z')];
    assert.deepEqual(starts({ ...base, maxPerDay: 1 }, staff({ bookingStarts: booked })), []);
    assert.deepEqual(starts({ ...base, maxPerDay: 2 }, staff({ bookingStarts: booked })), ['09:00', '10:00', '11:00']);
    // 23:30 UTC on the 23rd is the 24th in Berlin: it fills the Berlin 24th, not the 23rd.
    const berlin = fullDays([at('2026-03-23T23:30:00Z')], 'Europe/Berlin', 1);
    assert.deepEqual(berlin, [{ start: at('2026-03-23T23:00:00Z'), end: at('2026-03-24T23:00:00Z') }]);
    assert.equal((checkSlot({ ...base, maxPerDay: 1, now: 0 }, staff({ bookingStarts: booked }), at('2026-03-24T09:00:00Z')) as { reason: string }).reason, 'day_full');
  });

  test('per-day limit before a clash: a taken slot on a full date is day_full, on an open date busy', () => {
    const taken = { start: at('2026-03-24T11:00:00Z'), end: at('2026-03-24T11:40:00Z') };
    const s = staff({ bookingStarts: [taken.start], busy: [taken] });
    const reasonAt = (maxPerDay: number | null) =>
      (checkSlot({ ...base, maxPerDay, now: 0 }, s, taken.start) as { reason: string }).reason;
    assert.equal(reasonAt(1), 'day_full');
    assert.equal(reasonAt(2), 'busy');
    assert.equal(reasonAt(null), 'busy');
  });

  test('property: with interval and buffer before, every offered slot passes checkSlot', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }).map((k) => k * 5),
        fc.integer({ min: 1, max: 12 }).map((k) => k * 5),
        fc.integer({ min: 0, max: 60 }),
        fc.array(fc.integer({ min: 0, max: 47 }), { maxLength: 6 }),
        fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata'),
        (duration, interval, before, busyHalfHours, timeZone) => {
          const from = at('2026-03-28T00:00:00Z');
          const q: SlotQuery = { timeZone, durationMinutes: duration, bufferMinutes: 5, bufferBeforeMinutes: before, intervalMinutes: interval, from, to: from + 2 * 86_400_000, earliestStart: 0 };
          const s = staff({
            hours: [0, 6].map((weekday) => ({ weekday, startMinute: 8 * 60, endMinute: 14 * 60 })),
            busy: busyHalfHours.map((h) => ({ start: from + h * 30 * M, end: from + h * 30 * M + 40 * M })),
          });
          for (const slot of pageSlots(q, [s], { limit: 500, maxCandidates: 100_000, after: null }).slots) {
            assert.deepEqual(checkSlot({ ...q, now: 0 }, s, slot.start), { ok: true }, `${new Date(slot.start).toISOString()}`);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  test('local rendering and date parsing', () => {
    assert.equal(formatLocalDateTime(at('2026-03-29T07:00:00Z'), 'Europe/Berlin'), '2026-03-29T09:00:00+02:00');
    assert.equal(formatLocalDateTime(at('2026-03-28T08:00:00Z'), 'Europe/Berlin'), '2026-03-28T09:00:00+01:00');
    assert.equal(formatLocalDateTime(at('2026-03-28T08:00:00Z'), 'America/St_Johns'), '2026-03-28T05:30:00-02:30');
    assert.equal(formatLocalDateTime(at('2026-03-28T08:00:00Z'), 'UTC'), '2026-03-28T08:00:00+00:00');
    assert.deepEqual(parseLocalDate('2028-02-29'), { year: 2028, month: 2, day: 29 });
    assert.equal(parseLocalDate('2026-02-29'), null);
    assert.equal(parseLocalDate('2026-3-01'), null);
  });
});
