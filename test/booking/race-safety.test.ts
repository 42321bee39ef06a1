import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestApp, signUp, type TestContext } from '../helpers/app.js';
import { onServer } from '../helpers/database.js';
import { call, createBookingFixture, createTestClock, type BookingFixture } from './helpers.js';

/**
 * Issue 12 (Low): find-or-create and replace-set operations raced into unique violations,
 * answered as 500 on PostgreSQL. Concurrent requests must each get a 2xx (or a documented 4xx).
 */
const where = onServer ? 'PostgreSQL server' : 'PGlite';
let ctx: TestContext;
let f: BookingFixture;
before(async () => {
  // Concurrent requests queue on one staff row lock: on a loaded machine the last ones would
  // outwait the default 2 s pool wait and get 503 "busy" (as race.test.ts did).
  ctx = await createTestApp({ deps: { clock: createTestClock() }, env: { DATABASE_POOL_WAIT_MS: '60000' } });
  f = await createBookingFixture(ctx.app);
});
after(async () => ctx.close());

const publicBook = (user: Awaited<ReturnType<typeof signUp>>, hour: number) =>
  call<{ code?: string }>(ctx.app, user, 'POST', `/api/public/tenants/${f.tenant.slug}/reservations`, {
    serviceId: f.serviceId,
    staffId: f.staffId,
    start: `2026-03-25T${String(hour).padStart(2, '0')}:00:00Z`,
  });

test(`attack: one new customer's first public bookings sent concurrently → all 201, one customer record (${where})`, async () => {
  const user = await signUp(ctx.app, 'eager');
  const results = await Promise.all([9, 10, 11, 12, 13, 14, 15, 16].map((h) => publicBook(user, h)));
  assert.deepEqual(results.map((r) => r.status), results.map(() => 201), JSON.stringify(results.map((r) => r.body)));
  const customers = await call<{ items: Array<{ userId?: string | null }> }>(ctx.app, f.owner, 'GET', `${f.base}/customers?limit=100`);
  assert.equal(customers.body.items.filter((c) => c.userId === user.id).length, 1);
});

test(`attack: distinct new customers book concurrently → no 5xx (${where})`, async () => {
  const users = await Promise.all(Array.from({ length: 8 }, (_, i) => signUp(ctx.app, `new-${i}`)));
  const results = await Promise.all(users.map((u, i) => call(ctx.app, u, 'POST', `/api/public/tenants/${f.tenant.slug}/reservations`, {
    serviceId: f.serviceId,
    staffId: f.staffId,
    start: `2026-03-26T${String(9 + i).padStart(2, '0')}:00:00Z`,
  })));
  assert.deepEqual(results.map((r) => r.status), results.map(() => 201), JSON.stringify(results.map((r) => r.body)));
});

test(`attack: concurrent edits of one staff member's hours and services → all 200 (${where})`, async () => {
  const hours = Array.from({ length: 12 }, (_, i) =>
    call(ctx.app, f.owner, 'PUT', `${f.base}/staff/${f.staffId}/hours`, {
      hours: [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, start: `0${8 + (i % 2)}:00`, end: '17:00' })),
    }));
  const services = Array.from({ length: 12 }, () =>
    call(ctx.app, f.owner, 'PUT', `${f.base}/staff/${f.staffId}/services`, { serviceIds: [f.serviceId] }));
  const results = await Promise.all([...hours, ...services]);
  assert.deepEqual(results.map((r) => r.status), results.map(() => 200), JSON.stringify(results.filter((r) => r.status !== 200).map((r) => r.body)));
  const staff = await call<{ serviceIds?: string[] }>(ctx.app, f.owner, 'GET', `${f.base}/staff/${f.staffId}`);
  assert.equal(staff.status, 200);
});
