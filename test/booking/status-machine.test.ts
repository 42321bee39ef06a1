import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canTransition, isBeforeCutoff, RESERVATION_STATUSES, type ReservationStatus } from '../../src/booking/reservation-status.core.js';

// The machine, written out as the full from × to table: pending → confirmed →
// completed | no_show; pending | confirmed → cancelled. Everything else is illegal.
const ALLOWED: ReadonlyArray<[ReservationStatus, ReservationStatus]> = [
  ['pending', 'confirmed'],
  ['pending', 'cancelled'],
  ['confirmed', 'completed'],
  ['confirmed', 'no_show'],
  ['confirmed', 'cancelled'],
];

for (const from of RESERVATION_STATUSES) {
  for (const to of RESERVATION_STATUSES) {
    const expected = ALLOWED.some(([f, t]) => f === from && t === to);
    test(`${from} → ${to}: ${expected ? 'allowed' : 'invalid_state'}`, () => {
      assert.equal(canTransition(from, to), expected);
    });
  }
}

test('cancellation cutoff is inclusive at the boundary', () => {
  const start = Date.parse('2026-03-24T10:00:00Z');
  assert.equal(isBeforeCutoff(start - 60 * 60_000, start, 60), true);
  assert.equal(isBeforeCutoff(start - 60 * 60_000 + 1, start, 60), false);
});
