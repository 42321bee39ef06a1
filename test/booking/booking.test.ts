import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addMember, createTenant, signUp, type TestContext, createTestApp } from '../helpers/app.js';
import { WEBHOOK_EVENTS } from '../../src/webhooks/webhooks.core.js';
import { call, createBookingFixture, createTestClock, ok, recordedEffects, type BookingFixture } from './helpers.js';

type Err = { code: string; details?: Record<string, unknown> | Array<Record<string, unknown>> };
type Reservation = { id: string; start: string; end: string; status: string; staffId: string; customerId: string };

const clock = createTestClock(); // Monday 2026-03-23 06:00 UTC
let ctx: TestContext;
let f: BookingFixture;

before(async () => {
  ctx = await createTestApp({ deps: { clock } });
  f = await createBookingFixture(ctx.app);
});
after(async () => ctx.close());

const book = (start: string, extra: Record<string, unknown> = {}, fixture = f) =>
  call<Reservation & Err>(ctx.app, fixture.owner, 'POST', `${fixture.base}/reservations`, {
    serviceId: fixture.serviceId,
    staffId: fixture.staffId,
    customerId: fixture.customerId,
    start,
    ...extra,
  });

describe('catalogue and settings', () => {
  test('settings default, then patch with validation', async () => {
    const s = await ok(ctx.app, f.owner, 'GET', `${f.base}/settings`);
    assert.deepEqual(s, { timezone: 'UTC', currency: 'EUR', leadTimeMinutes: 0, cancellationCutoffMinutes: 0, allowedOrigins: [], requireVerifiedEmail: false, guestAutoConfirm: false, guestHoldMinutes: 30, reminderLeadMinutes: 1440, bookingHorizonDays: null, maxBookingsPerStaffDay: null, maxFutureBookingsPerCustomer: null });
    const bad = await call<Err>(ctx.app, f.owner, 'PATCH', `${f.base}/settings`, { timezone: 'Mars/Olympus' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'validation_error');
    const badCurrency = await call<Err>(ctx.app, f.owner, 'PATCH', `${f.base}/settings`, { currency: 'ABC' });
    assert.equal(badCurrency.status, 400);
  });

  test('service validation: price, duration, currency', async () => {
    for (const body of [
      { name: 'x', durationMinutes: 30, priceCents: -1 },
      { name: 'x', durationMinutes: 0, priceCents: 100 },
      { name: 'x', durationMinutes: 30, priceCents: 1.5 },
      { name: 'x', durationMinutes: 30, priceCents: 100, currency: 'eur' },
      { name: 'x', durationMinutes: 30, priceCents: 100, currency: 'QQQ' },
      { name: '', durationMinutes: 30, priceCents: 100 },
    ]) {
      const res = await call<Err>(ctx.app, f.owner, 'POST', `${f.base}/services`, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.code, 'validation_error');
    }
    const created = await ok<{ currency: string; active: boolean }>(ctx.app, f.owner, 'POST', `${f.base}/services`, {
      name: 'Beard trim',
      durationMinutes: 15,
      priceCents: 900,
    });
    assert.equal(created.currency, 'EUR'); // the tenant's default
    assert.equal(created.active, true);
  });

  test('overlapping weekly hours and unknown service ids are refused, nothing half-written', async () => {
    const res = await call<Err>(ctx.app, f.owner, 'PUT', `${f.base}/staff/${f.staffId}/hours`, {
      hours: [{ weekday: 1, start: '09:00', end: '12:00' }, { weekday: 1, start: '11:00', end: '13:00' }],
    });
    assert.equal(res.status, 400);
    assert.deepEqual((res.body.details as Array<{ field: string }>)[0]?.field, 'hours.1');
    const endBeforeStart = await call<Err>(ctx.app, f.owner, 'PUT', `${f.base}/staff/${f.staffId}/hours`, {
      hours: [{ weekday: 1, start: '12:00', end: '09:00' }],
    });
    assert.equal(endBeforeStart.status, 400);
    const unknown = await call<Err>(ctx.app, f.owner, 'PUT', `${f.base}/staff/${f.staffId}/services`, {
      serviceIds: [f.serviceId, '00000000-0000-4000-8000-000000000000'],
    });
    assert.equal(unknown.status, 404);
    const detail = await ok<{ serviceIds: string[]; hours: unknown[] }>(ctx.app, f.owner, 'GET', `${f.base}/staff/${f.staffId}`);
    assert.deepEqual(detail.serviceIds, [f.serviceId]);
    assert.equal(detail.hours.length, 7);
  });

  test('lists are cursor-paginated', async () => {
    for (let i = 0; i < 3; i += 1) await ok(ctx.app, f.owner, 'POST', `${f.base}/customers`, { name: `C${i}`, email: `page-${i}@example.test` });
    const first = await ok<{ items: Array<{ id: string }>; nextCursor: string | null }>(ctx.app, f.owner, 'GET', `${f.base}/customers?limit=2`);
    assert.equal(first.items.length, 2);
    assert.ok(first.nextCursor);
    const second = await ok<{ items: Array<{ id: string }> }>(ctx.app, f.owner, 'GET', `${f.base}/customers?limit=2&cursor=${first.nextCursor}`);
    assert.ok(second.items.every((c) => !first.items.some((x) => x.id === c.id)));
    const tooMany = await call<Err>(ctx.app, f.owner, 'GET', `${f.base}/customers?limit=101`);
    assert.equal(tooMany.status, 400);
    const dup = await call<Err>(ctx.app, f.owner, 'POST', `${f.base}/customers`, { name: 'dup', email: 'PAGE-0@example.test' });
    assert.equal(dup.status, 409);
  });
});

describe('reservations', () => {
  test('create, then an overlapping request (buffer included) is 409 naming the clash', async () => {
    const r = await book('2026-03-24T09:00:00Z');
    assert.equal(r.status, 201);
    assert.equal(r.body.end, '2026-03-24T09:30:00.000Z');
    assert.equal(r.body.status, 'pending');
    // 09:30 starts inside the 10-minute buffer after 09:00–09:30.
    const clash = await book('2026-03-24T09:30:00Z');
    assert.equal(clash.status, 409);
    assert.equal(clash.body.code, 'conflict');
    assert.deepEqual((clash.body.details as Record<string, unknown>).clashingSlot, { start: '2026-03-24T09:00:00.000Z', end: '2026-03-24T09:40:00.000Z' });
  });

  test('booking rules answer 422 slot_unavailable with the reason', async () => {
    await ok(ctx.app, f.owner, 'POST', `${f.base}/staff/${f.staffId}/time-off`, { start: '2026-03-25T12:00:00Z', end: '2026-03-25T14:00:00Z', reason: 'dentist' });
    const other = await ok<{ id: string }>(ctx.app, f.owner, 'POST', `${f.base}/services`, { name: 'Colour', durationMinutes: 90, priceCents: 9000 });
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['2026-03-23T05:00:00Z', {}, 'in_past'],
      ['2026-03-24T18:00:00Z', {}, 'outside_working_hours'],
      ['2026-03-24T16:45:00Z', {}, 'outside_working_hours'],
      ['2026-03-24T11:10:00Z', {}, 'not_aligned'],
      ['2026-03-25T12:30:00Z', {}, 'time_off'],
      ['2026-03-24T11:00:00Z', { serviceId: other.id }, 'service_not_performed'],
    ];
    for (const [start, extra, reason] of cases) {
      const res = await book(start, extra);
      assert.equal(res.status, 422, `${start} ${reason}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.code, 'slot_unavailable');
      assert.equal((res.body.details as Record<string, unknown>).reason, reason);
    }
    await ok(ctx.app, f.owner, 'PATCH', `${f.base}/settings`, { leadTimeMinutes: 24 * 60 });
    const lead = await book('2026-03-23T12:00:00Z');
    assert.equal((lead.body.details as Record<string, unknown>).reason, 'lead_time');
    await ok(ctx.app, f.owner, 'PATCH', `${f.base}/settings`, { leadTimeMinutes: 0 });
  });

  test('unknown and foreign ids are 404, never another tenant’s row', async () => {
    const g = await createBookingFixture(ctx.app);
    assert.equal((await book('2026-03-24T12:00:00Z', { serviceId: g.serviceId })).status, 404);
    assert.equal((await book('2026-03-24T12:00:00Z', { staffId: g.staffId })).status, 404);
    assert.equal((await book('2026-03-24T12:00:00Z', { customerId: g.customerId })).status, 404);
    const theirs = await book('2026-03-24T12:00:00Z', {}, g);
    assert.equal(theirs.status, 201);
    assert.equal((await call(ctx.app, f.owner, 'GET', `${f.base}/reservations/${theirs.body.id}`)).status, 404);
    assert.equal((await call(ctx.app, f.owner, 'GET', `${f.base}/services/${g.serviceId}`)).status, 404);
    assert.equal((await call(ctx.app, f.owner, 'GET', `${f.base}/services/not-a-uuid`)).status, 404);
    // The owner of A is no member of B.
    const foreign = await call<Err>(ctx.app, f.owner, 'GET', `${g.base}/reservations`);
    assert.equal(foreign.status, 403);
    assert.equal(foreign.body.code, 'tenant_mismatch');
  });

  test('status machine over HTTP, and reschedule', async () => {
    const r = await book('2026-03-26T10:00:00Z');
    assert.equal(r.status, 201);
    const url = `${f.base}/reservations/${r.body.id}`;
    const illegal = await call<Err>(ctx.app, f.owner, 'PATCH', url, { status: 'completed' });
    assert.equal(illegal.status, 422);
    assert.equal(illegal.body.code, 'invalid_state');
    const both = await call<Err>(ctx.app, f.owner, 'PATCH', url, { status: 'confirmed', start: '2026-03-26T11:00:00Z' });
    assert.equal(both.status, 400);
    const moved = await ok<Reservation>(ctx.app, f.owner, 'PATCH', url, { start: '2026-03-26T11:00:00Z' });
    assert.equal(moved.start, '2026-03-26T11:00:00.000Z');
    assert.equal(moved.end, '2026-03-26T11:30:00.000Z');
    const blocker = await book('2026-03-26T13:00:00Z');
    assert.equal(blocker.status, 201);
    assert.equal((await call(ctx.app, f.owner, 'PATCH', url, { start: '2026-03-26T13:00:00Z' })).status, 409);
    assert.equal((await ok<Reservation>(ctx.app, f.owner, 'PATCH', url, { status: 'confirmed' })).status, 'confirmed');
    assert.equal((await ok<Reservation>(ctx.app, f.owner, 'PATCH', url, { status: 'completed' })).status, 'completed');
    const late = await call<Err>(ctx.app, f.owner, 'PATCH', url, { start: '2026-03-26T15:00:00Z' });
    assert.equal(late.status, 422);
    // The old slot (10:00) is free again: the freed footprint is reusable.
    assert.equal((await book('2026-03-26T10:00:00Z')).status, 201);
  });

  test('a cancelled reservation frees its slot', async () => {
    const r = await book('2026-03-27T10:00:00Z');
    await ok(ctx.app, f.owner, 'PATCH', `${f.base}/reservations/${r.body.id}`, { status: 'cancelled' });
    assert.equal((await book('2026-03-27T10:00:00Z')).status, 201);
  });

  test('list filters: from/to, staffId, status; invalid range is 400', async () => {
    const list = await ok<{ items: Reservation[] }>(ctx.app, f.owner, 'GET', `${f.base}/reservations?from=2026-03-26T00:00:00Z&to=2026-03-27T00:00:00Z&status=completed`);
    assert.ok(list.items.length >= 1);
    assert.ok(list.items.every((x) => x.status === 'completed' && x.start.startsWith('2026-03-26')));
    const bad = await call<Err>(ctx.app, f.owner, 'GET', `${f.base}/reservations?from=2026-03-27T00:00:00Z&to=2026-03-26T00:00:00Z`);
    assert.equal(bad.status, 400);
  });

  test('deleting a service with reservations only deactivates it', async () => {
    const res = await call(ctx.app, f.owner, 'DELETE', `${f.base}/services/${f.serviceId}`);
    assert.equal(res.status, 204);
    const s = await ok<{ active: boolean }>(ctx.app, f.owner, 'GET', `${f.base}/services/${f.serviceId}`);
    assert.equal(s.active, false);
    assert.equal((await book('2026-03-28T10:00:00Z')).status, 422);
    await ok(ctx.app, f.owner, 'PATCH', `${f.base}/services/${f.serviceId}`, { active: true });
  });
});

describe('own-only visibility', () => {
  test('staff see and change only reservations assigned to them; customers see and cancel only their own', async () => {
    const staffUser = await signUp(ctx.app, 'stylist');
    const g = await createBookingFixture(ctx.app, { staffUser });
    const customerUser = await signUp(ctx.app, 'client');
    await addMember(ctx.app, g.owner, g.tenant.id, customerUser, 'customer');
    const mine = await ok<{ id: string }>(ctx.app, g.owner, 'POST', `${g.base}/customers`, { name: 'Me', email: customerUser.email, userId: customerUser.id });

    // A second staff member (no linked user) with their own reservation.
    const other = await ok<{ id: string }>(ctx.app, g.owner, 'POST', `${g.base}/staff`, { displayName: 'Other' });
    await ok(ctx.app, g.owner, 'PUT', `${g.base}/staff/${other.id}/services`, { serviceIds: [g.serviceId] });
    await ok(ctx.app, g.owner, 'PUT', `${g.base}/staff/${other.id}/hours`, { hours: [{ weekday: 2, start: '09:00', end: '17:00' }] });

    const assigned = await book('2026-03-24T09:00:00Z', { customerId: mine.id }, g);
    const notAssigned = await book('2026-03-24T09:00:00Z', { staffId: other.id }, g);
    assert.equal(assigned.status, 201);
    assert.equal(notAssigned.status, 201);

    const staffList = await ok<{ items: Reservation[] }>(ctx.app, staffUser, 'GET', `${g.base}/reservations`);
    assert.deepEqual(staffList.items.map((r) => r.id), [assigned.body.id]);
    assert.equal((await call(ctx.app, staffUser, 'GET', `${g.base}/reservations/${notAssigned.body.id}`)).status, 404);
    assert.equal((await call(ctx.app, staffUser, 'PATCH', `${g.base}/reservations/${notAssigned.body.id}`, { status: 'confirmed' })).status, 404);
    assert.equal((await ok<Reservation>(ctx.app, staffUser, 'PATCH', `${g.base}/reservations/${assigned.body.id}`, { status: 'confirmed' })).status, 'confirmed');
    // Staff may book into their own calendar but not into someone else's.
    const intoOther = await call<Err>(ctx.app, staffUser, 'POST', `${g.base}/reservations`, {
      serviceId: g.serviceId, staffId: other.id, customerId: g.customerId, start: '2026-03-24T10:00:00Z',
    });
    assert.equal(intoOther.status, 403);

    const customerList = await ok<{ items: Reservation[] }>(ctx.app, customerUser, 'GET', `${g.base}/reservations`);
    assert.deepEqual(customerList.items.map((r) => r.id), [assigned.body.id]);
    assert.equal((await call(ctx.app, customerUser, 'GET', `${g.base}/reservations/${notAssigned.body.id}`)).status, 404);
    const confirm = await call<Err>(ctx.app, customerUser, 'PATCH', `${g.base}/reservations/${assigned.body.id}`, { status: 'completed' });
    assert.equal(confirm.status, 403);
    // Customers may book only for themselves.
    const forOther = await call(ctx.app, customerUser, 'POST', `${g.base}/reservations`, {
      serviceId: g.serviceId, staffId: g.staffId, customerId: g.customerId, start: '2026-03-24T11:00:00Z',
    });
    assert.equal(forOther.status, 403);

    // Cancellation cutoff. Now is Monday 06:00; the booking is Tuesday 09:00, 27 h away.
    await ok(ctx.app, g.owner, 'PATCH', `${g.base}/settings`, { cancellationCutoffMinutes: 28 * 60 });
    const tooLate = await call<Err>(ctx.app, customerUser, 'PATCH', `${g.base}/reservations/${assigned.body.id}`, { status: 'cancelled' });
    assert.equal(tooLate.status, 422);
    assert.equal(tooLate.body.code, 'invalid_state');
    await ok(ctx.app, g.owner, 'PATCH', `${g.base}/settings`, { cancellationCutoffMinutes: 24 * 60 });
    const cancelled = await ok<Reservation>(ctx.app, customerUser, 'PATCH', `${g.base}/reservations/${assigned.body.id}`, { status: 'cancelled' });
    assert.equal(cancelled.status, 'cancelled');
  });
});

describe('availability', () => {
  test('across the Europe/Berlin DST change (Sunday 2026-03-29)', async () => {
    const g = await createBookingFixture(ctx.app, { timezone: 'Europe/Berlin' });
    await ok(ctx.app, g.owner, 'PUT', `${g.base}/staff/${g.staffId}/hours`, {
      hours: [6, 0, 1].map((weekday) => ({ weekday, start: '09:00', end: '10:00' })),
    });
    const res = await ok<{ slots: Array<{ start: string; staffId: string }> }>(
      ctx.app, null, 'GET',
      `/api/public/tenants/${g.tenant.slug}/availability?serviceId=${g.serviceId}&from=2026-03-28T00:00:00Z&to=2026-03-31T00:00:00Z`,
    );
    assert.deepEqual(res.slots.map((s) => s.start), [
      '2026-03-28T08:00:00.000Z', '2026-03-28T08:30:00.000Z', // Sat 09:00 CET
      '2026-03-29T07:00:00.000Z', '2026-03-29T07:30:00.000Z', // Sun 09:00 CEST
      '2026-03-30T07:00:00.000Z', '2026-03-30T07:30:00.000Z',
    ]);
    // Booking the Sunday 09:00 local slot works and removes it.
    const r = await book('2026-03-29T07:00:00Z', {}, g);
    assert.equal(r.status, 201);
    const after = await ok<{ slots: Array<{ start: string }> }>(
      ctx.app, g.owner, 'GET',
      `${g.base}/availability?serviceId=${g.serviceId}&from=2026-03-29T00:00:00Z&to=2026-03-30T00:00:00Z`,
    );
    // 09:30 local starts inside 09:00's 10-minute buffer.
    assert.deepEqual(after.slots.map((s) => s.start), []);
  });

  test('range validation: end before start, more than 31 days', async () => {
    const u = (from: string, to: string) => `/api/public/tenants/${f.tenant.slug}/availability?serviceId=${f.serviceId}&from=${from}&to=${to}`;
    assert.equal((await call(ctx.app, null, 'GET', u('2026-03-25T00:00:00Z', '2026-03-24T00:00:00Z'))).status, 400);
    assert.equal((await call(ctx.app, null, 'GET', u('2026-03-01T00:00:00Z', '2026-04-02T00:00:00Z'))).status, 400);
    assert.equal((await call(ctx.app, null, 'GET', u('2026-03-01T00:00:00Z', '2026-04-01T00:00:00Z'))).status, 200);
    assert.equal((await call(ctx.app, null, 'GET', `/api/public/tenants/no-such-tenant/services`)).status, 404);
  });
});

describe('availability is bounded (issue 12, item 1)', () => {
  type Page = { slots: Array<{ start: string; end: string; staffId: string }>; nextCursor: string | null };

  /** A tenant whose 3 staff are open around the clock for a 5-minute service. */
  async function createDenseTenant() {
    const g = await createBookingFixture(ctx.app);
    const service = await ok<{ id: string }>(ctx.app, g.owner, 'POST', `${g.base}/services`, { name: 'Tiny', durationMinutes: 5, bufferMinutes: 0, priceCents: 100, currency: 'EUR' });
    for (let i = 0; i < 3; i += 1) {
      const staff = await ok<{ id: string }>(ctx.app, g.owner, 'POST', `${g.base}/staff`, { displayName: `Round the clock ${i}` });
      await ok(ctx.app, g.owner, 'PUT', `${g.base}/staff/${staff.id}/services`, { serviceIds: [service.id] });
      await ok(ctx.app, g.owner, 'PUT', `${g.base}/staff/${staff.id}/hours`, { hours: [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, start: '00:00', end: '24:00' })) });
    }
    return { ...g, tinyId: service.id };
  }

  test('regression: 31 days of a 5-minute service answer one page of at most `limit` slots with a cursor, on both routes', async () => {
    const g = await createDenseTenant();
    const q = `serviceId=${g.tinyId}&from=2026-03-24T00:00:00Z&to=2026-04-24T00:00:00Z`;
    const anonymous = await call<Page>(ctx.app, null, 'GET', `/api/public/tenants/${g.tenant.slug}/availability?${q}`);
    assert.equal(anonymous.status, 200);
    assert.equal(anonymous.body.slots.length, 100); // the default limit; 26 784 slots exist
    assert.equal(typeof anonymous.body.nextCursor, 'string');
    const member = await call<Page>(ctx.app, g.owner, 'GET', `${g.base}/availability?${q}&limit=500`);
    assert.equal(member.body.slots.length, 500);
    assert.equal(typeof member.body.nextCursor, 'string');
    const tooMany = await call<Err>(ctx.app, null, 'GET', `/api/public/tenants/${g.tenant.slug}/availability?${q}&limit=501`);
    assert.equal(tooMany.status, 400);
  });

  test('walking the cursor yields every slot once, in order, then a null cursor', async () => {
    const g = await createDenseTenant();
    const base = `/api/public/tenants/${g.tenant.slug}/availability?serviceId=${g.tinyId}&from=2026-03-24T00:00:00Z&to=2026-03-25T00:00:00Z&limit=333`;
    const seenSlots: Page['slots'] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page += 1) {
      const res: Page = await ok<Page>(ctx.app, null, 'GET', cursor ? `${base}&cursor=${cursor}` : base);
      seenSlots.push(...res.slots);
      cursor = res.nextCursor;
      if (cursor === null) break;
    }
    assert.equal(cursor, null);
    assert.equal(seenSlots.length, 3 * 288);
    const keys = seenSlots.map((s) => `${s.start}|${s.staffId}`);
    assert.deepEqual(keys, [...new Set(keys)].sort());
  });

  test('a cursor that is not one answers 400', async () => {
    const u = `/api/public/tenants/${f.tenant.slug}/availability?serviceId=${f.serviceId}&from=2026-03-24T00:00:00Z&to=2026-03-25T00:00:00Z`;
    const bad = await call<Err>(ctx.app, null, 'GET', `${u}&cursor=${Buffer.from('drop table').toString('base64url')}`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'validation_error');
  });

  test('budget: per caller and per tenant, anonymous and signed in', async () => {
    const limited = await createTestApp({
      env: { RATE_LIMIT_AVAILABILITY_PER_CALLER_PER_MINUTE: '3', RATE_LIMIT_AVAILABILITY_PER_TENANT_PER_MINUTE: '5' },
      deps: { clock: createTestClock() },
    });
    try {
      const g = await createBookingFixture(limited.app);
      const url = `/api/public/tenants/${g.tenant.slug}/availability?serviceId=${g.serviceId}&from=2026-03-24T00:00:00Z&to=2026-03-25T00:00:00Z`;
      const from = async (remoteAddress: string) => (await limited.app.inject({ method: 'GET', url, remoteAddress })).statusCode;
      assert.deepEqual([await from('192.0.2.1'), await from('192.0.2.1'), await from('192.0.2.1'), await from('192.0.2.1')], [200, 200, 200, 429]);
      // The tenant's budget (5) is shared: a second address gets what is left of it.
      assert.deepEqual([await from('192.0.2.2'), await from('192.0.2.2'), await from('192.0.2.2')], [200, 200, 429]);
      // The member route has its own budgets (per member, per tenant id), with the same rules.
      const member = () => limited.app.inject({ method: 'GET', url: `${g.base}/availability?serviceId=${g.serviceId}&from=2026-03-24T00:00:00Z&to=2026-03-25T00:00:00Z`, headers: { authorization: `Bearer ${g.owner.accessToken}` } });
      const statuses = [];
      for (let i = 0; i < 4; i += 1) statuses.push((await member()).statusCode);
      assert.deepEqual(statuses, [200, 200, 200, 429]);
      assert.ok(Number((await member()).headers['retry-after']) >= 1);
      // Other routes are not affected.
      assert.equal((await limited.app.inject({ method: 'GET', url: `/api/public/tenants/${g.tenant.slug}/services`, remoteAddress: '192.0.2.1' })).statusCode, 200);
    } finally {
      await limited.close();
    }
  });
});

describe('public booking and tenant isolation', () => {
  test('a signed-in user books by slug, becomes a customer, and sees only their own data', async () => {
    const g = await createBookingFixture(ctx.app);
    const t = await ok<{ name: string; slug: string; timezone: string }>(ctx.app, null, 'GET', `/api/public/tenants/${g.tenant.slug}`);
    assert.deepEqual(t, { name: g.tenant.slug, slug: g.tenant.slug, timezone: 'UTC' });
    const services = await ok<{ items: Array<{ id: string }> }>(ctx.app, null, 'GET', `/api/public/tenants/${g.tenant.slug}/services`);
    assert.deepEqual(services.items.map((s) => s.id), [g.serviceId]);

    const visitor = await signUp(ctx.app, 'visitor');
    const anonymous = await call<Err>(ctx.app, null, 'POST', `/api/public/tenants/${g.tenant.slug}/reservations`, { serviceId: g.serviceId, start: '2026-03-24T09:00:00Z' });
    // Issue 17: no longer 401; without a credential the body must name the guest.
    assert.equal(anonymous.status, 400);
    assert.equal((anonymous.body.details as Array<{ field: string }>)[0]?.field, 'customer');
    const r = await call<Reservation>(ctx.app, visitor, 'POST', `/api/public/tenants/${g.tenant.slug}/reservations`, { serviceId: g.serviceId, start: '2026-03-24T09:00:00Z' });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.staffId, g.staffId); // picked automatically
    const taken = await call<Err>(ctx.app, visitor, 'POST', `/api/public/tenants/${g.tenant.slug}/reservations`, { serviceId: g.serviceId, start: '2026-03-24T09:00:00Z' });
    assert.equal(taken.status, 409);

    const me = await ok<{ memberships: Array<{ tenantId: string; role: string }> }>(ctx.app, visitor, 'GET', '/api/auth/me');
    assert.deepEqual(me.memberships.filter((m) => m.tenantId === g.tenant.id).map((m) => m.role), ['customer']);
    const mine = await ok<{ items: Reservation[] }>(ctx.app, visitor, 'GET', `${g.base}/reservations`);
    assert.deepEqual(mine.items.map((x) => x.id), [r.body.id]);

    // The customer of g cannot read g's customer list, nor anything of tenant f.
    assert.equal((await call(ctx.app, visitor, 'GET', `${g.base}/customers`)).status, 403);
    assert.equal((await call(ctx.app, visitor, 'GET', `${f.base}/services`)).status, 403);
    assert.equal((await call(ctx.app, visitor, 'GET', `${f.base}/reservations`)).status, 403);
    const intoF = await call(ctx.app, visitor, 'POST', `${f.base}/reservations`, {
      serviceId: f.serviceId, staffId: f.staffId, customerId: f.customerId, start: '2026-03-24T15:00:00Z',
    });
    assert.equal(intoF.status, 403);
    // Public booking into f with g's service id is a 404, not a cross-tenant booking.
    const crossed = await call(ctx.app, visitor, 'POST', `/api/public/tenants/${f.tenant.slug}/reservations`, { serviceId: g.serviceId, start: '2026-03-24T15:00:00Z' });
    assert.equal(crossed.status, 404);
  });

  test('an unlinked customer record with the same email is not claimed by public booking', async () => {
    const g = await createBookingFixture(ctx.app);
    const user = await signUp(ctx.app, 'claimer');
    const existing = await ok<{ id: string }>(ctx.app, g.owner, 'POST', `${g.base}/customers`, { name: 'Known', email: user.email });
    const url = `/api/public/tenants/${g.tenant.slug}/reservations`;
    const refused = await call<Err>(ctx.app, user, 'POST', url, { serviceId: g.serviceId, staffId: g.staffId, start: '2026-03-24T09:00:00Z' });
    assert.equal(refused.status, 409);
    assert.equal((refused.body.details as Record<string, unknown>).reason, 'customer_email_unlinked');
    // Nothing half-written: no membership was created by the refused request.
    const me = await ok<{ memberships: Array<{ tenantId: string }> }>(ctx.app, user, 'GET', '/api/auth/me');
    assert.ok(!me.memberships.some((m) => m.tenantId === g.tenant.id));
    // Linking needs the user to be a member (issue 12 item 4): invite, accept, then link.
    await addMember(ctx.app, g.owner, g.tenant.id, user, 'customer');
    await ok(ctx.app, g.owner, 'PATCH', `${g.base}/customers/${existing.id}`, { userId: user.id });
    const booked = await call<Reservation>(ctx.app, user, 'POST', url, { serviceId: g.serviceId, staffId: g.staffId, start: '2026-03-24T09:00:00Z' });
    assert.equal(booked.status, 201);
    assert.equal(booked.body.customerId, existing.id);
  });

  test('public lookup does not open the tenants table', async () => {
    const owner = await signUp(ctx.app, 'quiet');
    const quiet = await createTenant(ctx.app, owner);
    // Resolving one slug must not reveal any other tenant row (RLS policy is keyed on the slug).
    const rows = await ctx.database.db.transaction(async (tx) => {
      await tx.query(`SELECT set_config('app.public_slug', $1, true)`, [quiet.slug]);
      return (await tx.query<{ slug: string }>('SELECT slug FROM tenants')).rows;
    });
    assert.deepEqual(rows.map((r) => r.slug), [quiet.slug]);
  });
});

describe('each reservation change is recorded in its own transaction (ADR 0024, 0029)', () => {
  // No job worker runs here (JOBS_POLL_MS=0), so webhook messages stay queued where the
  // change wrote them; customer mail jobs run after the commit and stay as rows.
  test('tenant booking, confirm, reschedule, cancel; a signed-in public booking', async () => {
    const g = await createBookingFixture(ctx.app);
    await ok(ctx.app, g.owner, 'POST', `${g.base}/webhooks`, { url: 'http://127.0.0.1:9/hook', events: WEBHOOK_EVENTS });
    const r = await ok<Reservation>(ctx.app, g.owner, 'POST', `${g.base}/reservations`, { serviceId: g.serviceId, staffId: g.staffId, customerId: g.customerId, start: '2026-03-24T09:00:00Z' });
    const url = `${g.base}/reservations/${r.id}`;
    await ok(ctx.app, g.owner, 'PATCH', url, { status: 'confirmed' });
    await ok(ctx.app, g.owner, 'PATCH', url, { start: '2026-03-24T11:00:00Z' });
    await ok(ctx.app, g.owner, 'PATCH', url, { status: 'cancelled' });
    const at9 = { start: '2026-03-24T09:00:00.000Z', end: '2026-03-24T09:30:00.000Z' };
    const at11 = { start: '2026-03-24T11:00:00.000Z', end: '2026-03-24T11:30:00.000Z' };
    assert.deepEqual(await recordedEffects(ctx.database.db, r.id), [
      { job: 'reservation.mail', kind: 'cancelled' },
      { job: 'reservation.mail', kind: 'changed' },
      { job: 'reservation.mail', kind: 'confirmed' },
      { job: 'reservation.mail', kind: 'pending' },
      { job: 'webhook.deliver', event: 'reservation.cancelled', data: { reservationId: r.id, from: 'confirmed', to: 'cancelled' } },
      { job: 'webhook.deliver', event: 'reservation.confirmed', data: { reservationId: r.id, from: 'pending', to: 'confirmed' } },
      { job: 'webhook.deliver', event: 'reservation.created', data: { reservationId: r.id, staffId: g.staffId, customerId: g.customerId, ...at9, channel: 'tenant' } },
      { job: 'webhook.deliver', event: 'reservation.rescheduled', data: { reservationId: r.id, from: at9, to: at11 } },
    ]);

    const visitor = await signUp(ctx.app, 'recorded');
    const p = await ok<Reservation>(ctx.app, visitor, 'POST', `/api/public/tenants/${g.tenant.slug}/reservations`, { serviceId: g.serviceId, start: '2026-03-24T13:00:00Z' });
    assert.deepEqual(await recordedEffects(ctx.database.db, p.id), [
      { job: 'reservation.mail', kind: 'pending' },
      {
        job: 'webhook.deliver', event: 'reservation.created',
        data: { reservationId: p.id, staffId: g.staffId, customerId: p.customerId, start: '2026-03-24T13:00:00.000Z', end: '2026-03-24T13:30:00.000Z', channel: 'public' },
      },
    ]);
  });
});
