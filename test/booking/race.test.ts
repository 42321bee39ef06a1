import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { onServer } from '../helpers/database.js';
import { call, createBookingFixture, createTestClock, ok, type BookingFixture } from './helpers.js';

// No double booking is guaranteed by the database (EXCLUDE USING gist on staff × time range,
// buffer included), not by the pre-check: 100 concurrent overlapping requests → one winner.
let ctx: TestContext;
let f: BookingFixture;
before(async () => {
  // The 100 requests take the staff row lock in turn, each holding one of the server pool's 10
  // connections meanwhile, so the last ones wait for a connection while about 90 bookings run.
  // Under machine load the default 2 s pool wait turns some of them into 503 "The database is
  // busy"; this test checks the race, not the machine's speed, so they may wait up to 60 s.
  ctx = await createTestApp({ deps: { clock: createTestClock() }, env: { DATABASE_POOL_WAIT_MS: '60000' } });
  f = await createBookingFixture(ctx.app);
});
after(async () => ctx.close());

test(`100 concurrent overlapping reservations → exactly one 201 and 99 × 409 (${onServer ? 'PostgreSQL server' : 'PGlite'})`, async () => {
  // 30-minute service on a 30-minute grid: 10:00 and 10:30 overlap through the 10-minute buffer,
  // so both starts compete for the same footprint.
  const starts = Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? '2026-03-24T10:00:00Z' : '2026-03-24T10:30:00Z'));
  const results = await Promise.all(
    starts.map((start) =>
      call<{ code?: string }>(ctx.app, f.owner, 'POST', `${f.base}/reservations`, {
        serviceId: f.serviceId,
        staffId: f.staffId,
        customerId: f.customerId,
        start,
      }),
    ),
  );
  const statuses = results.map((r) => r.status);
  assert.equal(statuses.filter((s) => s === 201).length, 1, `statuses: ${JSON.stringify(statuses)}`);
  assert.equal(statuses.filter((s) => s === 409).length, 99);
  assert.ok(results.filter((r) => r.status === 409).every((r) => r.body.code === 'conflict'));
  const list = await ok<{ items: unknown[] }>(ctx.app, f.owner, 'GET', `${f.base}/reservations?staffId=${f.staffId}`);
  assert.equal(list.items.length, 1);
});

test('the constraint holds even when the application check is bypassed', async () => {
  // Straight SQL as the app role: a second active row overlapping the first is refused (23P01).
  const err = await ctx.database.db
    .transaction(async (tx) => {
      await tx.query(`SELECT set_config('app.tenant_id', $1, true)`, [f.tenant.id]);
      await tx.query(
        `INSERT INTO reservations (id, tenant_id, service_id, staff_id, customer_id, starts_at, ends_at, blocked_until, status)
         SELECT gen_random_uuid(), $1, service_id, staff_id, customer_id, starts_at + interval '5 minutes', ends_at, blocked_until, 'confirmed'
           FROM reservations WHERE tenant_id = $1 LIMIT 1`,
        [f.tenant.id],
      );
    })
    .then(() => null, (e: unknown) => e as { code?: string });
  assert.equal(err?.code, '23P01');
});
