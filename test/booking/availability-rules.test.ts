import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestApp, signUp, type TestContext } from '../helpers/app.js';
import { onServer } from '../helpers/database.js';
import { call, createBookingFixture, createTestClock, ok, type BookingFixture } from './helpers.js';

/**
 * Issue 17, availability rules (docs/booking.md, "Availability rules"): slot interval apart
 * from duration, buffer before, booking horizon, per-staff-day and per-customer limits (race-safe),
 * per-date hours, tenant closures, and slots rendered in a requested time zone. Each rule holds
 * on the tenant routes and on the public (guest) routes alike.
 */
type Err = { code: string; details?: Record<string, unknown> };
type Slot = { start: string; end: string; staffId: string; localStart: string; localEnd: string };

const clock = createTestClock(); // Monday 2026-03-23 06:00 UTC
let ctx: TestContext;
before(async () => {
  ctx = await createTestApp({ deps: { clock }, env: { GUEST_BOOKINGS_PER_EMAIL_PER_HOUR: '0', GUEST_BOOKINGS_PER_IP_PER_HOUR: '0', DATABASE_POOL_WAIT_MS: '60000' } });
});
after(async () => ctx.close());

const db = onServer ? 'PostgreSQL server' : 'PGlite';
const slotsOf = async (g: BookingFixture, query: string, serviceId = g.serviceId) =>
  (await ok<{ slots: Slot[] }>(ctx.app, null, 'GET', `/api/public/tenants/${g.tenant.slug}/availability?serviceId=${serviceId}&limit=500&${query}`)).slots;
const startsOn = async (g: BookingFixture, day: string, serviceId = g.serviceId) =>
  (await slotsOf(g, `from=${day}T00:00:00Z&to=${day}T23:59:00Z`, serviceId)).map((s) => s.start.slice(11, 16));
const book = (g: BookingFixture, start: string, extra: Record<string, unknown> = {}) =>
  call<{ id: string } & Err>(ctx.app, g.owner, 'POST', `${g.base}/reservations`, { serviceId: g.serviceId, staffId: g.staffId, customerId: g.customerId, start, ...extra });
let n = 0;
const guestBook = (g: BookingFixture, start: string) =>
  call<{ id: string } & Err>(ctx.app, null, 'POST', `/api/public/tenants/${g.tenant.slug}/reservations`, {
    serviceId: g.serviceId, start, customer: { name: 'Robin', email: `robin-${++n}@guests.example.test` },
  });

describe(`availability rules (${db})`, () => {
  test('slot interval apart from duration: the grid steps by the interval, off-grid starts are 422 not_aligned', async () => {
    const g = await createBookingFixture(ctx.app);
    await ok(ctx.app, g.owner, 'PATCH', `${g.base}/services/${g.serviceId}`, { durationMinutes: 60, bufferMinutes: 0, slotIntervalMinutes: 20 });
    await ok(ctx.app, g.owner, 'PUT', `${g.base}/staff/${g.staffId}/hours`, { hours: [{ weekday: 2, start: '09:00', end: '11:00' }] });
    assert.deepEqual(await startsOn(g, '2026-03-24'), ['09:00', '09:20', '09:40', '10:00']);
    const slot = (await slotsOf(g, 'from=2026-03-24T00:00:00Z&to=2026-03-25T00:00:00Z'))[0]!;
    assert.equal(slot.end, '2026-03-24T10:00:00.000Z', 'a slot lasts the duration, not the interval');
    const off = await book(g, '2026-03-24T09:30:00Z');
    assert.equal(off.status, 422);
    assert.equal(off.body.code, 'slot_unavailable');
    assert.equal(off.body.details?.reason, 'not_aligned');
    assert.equal((await guestBook(g, '2026-03-24T09:30:00Z')).body.details?.reason, 'not_aligned', 'the public route has the same grid');
    assert.equal((await book(g, '2026-03-24T09:20:00Z')).status, 201);
    assert.deepEqual(await startsOn(g, '2026-03-24'), [], 'every other start overlaps 09:20–10:20');
    const svc = await ok<{ slotIntervalMinutes: number | null; bufferBeforeMinutes: number }>(ctx.app, g.owner, 'GET', `${g.base}/services/${g.serviceId}`);
    assert.deepEqual([svc.slotIntervalMinutes, svc.bufferBeforeMinutes], [20, 0]);
  });

  test('buffer before: the footprint starts earlier, in availability and at booking time', async () => {
    const g = await createBookingFixture(ctx.app); // 30 min + 10 after, 09:00–17:00
    const b = await ok<{ id: string }>(ctx.app, g.owner, 'POST', `${g.base}/services`, {
      name: 'Colour', durationMinutes: 30, bufferMinutes: 0, bufferBeforeMinutes: 30, priceCents: 100,
    });
    await ok(ctx.app, g.owner, 'PUT', `${g.base}/staff/${g.staffId}/services`, { serviceIds: [g.serviceId, b.id] });
    assert.equal((await book(g, '2026-03-24T10:00:00Z')).status, 201); // blocks 10:00–10:40
    const free = await startsOn(g, '2026-03-24', b.id);
    assert.ok(!free.includes('11:00'), '11:00 needs 10:30–11:00 free before it');
    assert.ok(free.includes('11:30'));
    const clash = await book(g, '2026-03-24T11:00:00Z', { serviceId: b.id });
    assert.equal(clash.status, 409);
    assert.equal(clash.body.code, 'conflict');
    assert.equal((await book(g, '2026-03-24T11:30:00Z', { serviceId: b.id })).status, 201);
    // The stored footprint now starts at 11:00: the first service's 10:30 (to 11:10 with its buffer) no longer fits.
    assert.ok(!(await startsOn(g, '2026-03-24')).includes('10:30'));
    assert.equal((await book(g, '2026-03-24T10:30:00Z')).status, 409);
  });

  test('booking horizon: slots end at now + bookingHorizonDays; a later start is 422 outside_booking_window on both routes', async () => {
    const g = await createBookingFixture(ctx.app);
    await ok(ctx.app, g.owner, 'PATCH', `${g.base}/settings`, { bookingHorizonDays: 30 });
    // now = 2026-03-23T06:00Z → latest start before 2026-04-22T06:00Z
    const slots = await slotsOf(g, 'from=2026-04-21T00:00:00Z&to=2026-04-24T00:00:00Z');
    assert.ok(slots.length > 0);
    assert.equal(slots.at(-1)!.start, '2026-04-21T16:30:00.000Z');
    const far = await book(g, '2026-05-01T09:00:00Z');
    assert.equal(far.status, 422);
    assert.equal(far.body.code, 'outside_booking_window');
    assert.equal(far.body.details?.bookingHorizonDays, 30);
    const guest = await guestBook(g, '2027-01-05T09:00:00Z');
    assert.equal(guest.status, 422);
    assert.equal(guest.body.code, 'outside_booking_window');
    assert.equal((await book(g, '2026-04-21T09:00:00Z')).status, 201);
    await ok(ctx.app, g.owner, 'PATCH', `${g.base}/settings`, { bookingHorizonDays: null });
    assert.equal((await book(g, '2026-05-01T09:00:00Z')).status, 201, 'null = no horizon');
  });

  test('per-staff-day limit: 8 concurrent bookings on one day → exactly the limit succeed; the full day offers nothing', async () => {
    const g = await createBookingFixture(ctx.app);
    await ok(ctx.app, g.owner, 'PATCH', `${g.base}/settings`, { maxBookingsPerStaffDay: 2 });
    const starts = ['09:00', '10:00', '11:00', '12:00', '13:00', '14:00', '15:00', '16:00'];
    const results = await Promise.all(starts.map((t) => book(g, `2026-03-25T${t}:00Z`)));
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 201).length, 2, JSON.stringify(statuses));
    assert.ok(results.filter((r) => r.status !== 201).every((r) => r.status === 422 && r.body.code === 'booking_limit_reached'), JSON.stringify(results.map((r) => r.body.code)));
    assert.deepEqual(await startsOn(g, '2026-03-25'), []);
    assert.ok((await startsOn(g, '2026-03-26')).length > 0, 'the next day is open');
    // Which two won is up to the race, so ask at a won (taken) start and at a lost (free) one:
    // the limit is a rule of the day, answered before a clash with one slot (docs/booking.md).
    const taken = starts[statuses.indexOf(201)]!;
    const free = starts[statuses.findIndex((s) => s !== 201)]!;
    for (const [t, attempt] of [[taken, guestBook], [free, guestBook], [taken, book]] as const) {
      const res = await attempt(g, `2026-03-25T${t}:00Z`);
      assert.deepEqual([res.status, res.body.code, res.body.details?.limit], [422, 'booking_limit_reached', 'per_staff_day'], `${attempt === book ? 'tenant' : 'guest'} at ${t}`);
    }
  });

  test('per-customer limit of active future bookings: 6 concurrent bookings → exactly 2; cancelling frees one', async () => {
    const g = await createBookingFixture(ctx.app);
    await ok(ctx.app, g.owner, 'PATCH', `${g.base}/settings`, { maxFutureBookingsPerCustomer: 2 });
    const days = ['24', '25', '26', '27', '28', '29'];
    const results = await Promise.all(days.map((d) => book(g, `2026-03-${d}T09:00:00Z`)));
    const won = results.filter((r) => r.status === 201);
    assert.equal(won.length, 2, JSON.stringify(results.map((r) => r.status)));
    const lost = results.find((r) => r.status !== 201)!;
    assert.equal(lost.status, 422);
    assert.equal(lost.body.code, 'booking_limit_reached');
    assert.equal(lost.body.details?.limit, 'per_customer');
    await ok(ctx.app, g.owner, 'PATCH', `${g.base}/reservations/${won[0]!.body.id}`, { status: 'cancelled' });
    assert.equal((await book(g, '2026-03-30T09:00:00Z')).status, 201);
  });

  test('per-customer limit in availability: a signed-in customer at the limit is offered nothing, marked; guests and others keep the list', async () => {
    const g = await createBookingFixture(ctx.app);
    await ok(ctx.app, g.owner, 'PATCH', `${g.base}/settings`, { maxFutureBookingsPerCustomer: 2 });
    const url = `/api/public/tenants/${g.tenant.slug}/availability?serviceId=${g.serviceId}&from=2026-03-26&to=2026-03-26`;
    type Page = { slots: Slot[]; nextCursor: string | null; bookingLimitReached?: { limit: string; max: number } };
    const customer = await signUp(ctx.app, 'regular');
    const other = await signUp(ctx.app, 'newcomer');
    const publicBook = (start: string) => call<Err>(ctx.app, customer, 'POST', `/api/public/tenants/${g.tenant.slug}/reservations`, { serviceId: g.serviceId, start });
    assert.equal((await ok<Page>(ctx.app, customer, 'GET', url)).slots.length, 16, 'no customer record yet: the plain list');
    assert.equal((await publicBook('2026-03-24T09:00:00Z')).status, 201);
    const below = await ok<Page>(ctx.app, customer, 'GET', url);
    assert.equal(below.slots.length, 16);
    assert.equal(below.bookingLimitReached, undefined);
    assert.equal((await publicBook('2026-03-25T09:00:00Z')).status, 201);
    const full = await ok<Page>(ctx.app, customer, 'GET', url);
    assert.deepEqual(full, { slots: [], nextCursor: null, bookingLimitReached: { limit: 'per_customer', max: 2 } });
    // What availability hides, booking refuses: the same rule on both sides.
    const refused = await publicBook('2026-03-26T09:00:00Z');
    assert.deepEqual([refused.status, refused.body.code, refused.body.details?.limit], [422, 'booking_limit_reached', 'per_customer']);
    const guest = await ok<Page>(ctx.app, null, 'GET', url);
    assert.equal(guest.slots.length, 16);
    assert.equal(guest.bookingLimitReached, undefined);
    assert.equal((await ok<Page>(ctx.app, other, 'GET', url)).slots.length, 16, 'another signed-in user is not affected');
    // Bad input keeps its answer for the customer at the limit too.
    assert.equal((await call(ctx.app, customer, 'GET', `${url}&timeZone=Mars/Olympus`)).status, 400);
    assert.equal((await call(ctx.app, customer, 'GET', `/api/public/tenants/no-such-tenant-x/availability?serviceId=${g.serviceId}&from=2026-03-26&to=2026-03-26`)).status, 404);
    const reservations = await ok<{ items: Array<{ id: string; start: string; customerId: string }> }>(ctx.app, g.owner, 'GET', `${g.base}/reservations?from=2026-03-24T00:00:00Z&to=2026-03-26T00:00:00Z`);
    const first = reservations.items.find((r) => r.start.startsWith('2026-03-24'))!;
    await ok(ctx.app, g.owner, 'PATCH', `${g.base}/reservations/${first.id}`, { status: 'cancelled' });
    assert.equal((await ok<Page>(ctx.app, customer, 'GET', url)).slots.length, 16, 'cancelling frees a place');
  });

  test('per-date hours add and change hours on one date only', async () => {
    const g = await createBookingFixture(ctx.app); // 09:00–17:00 every day
    const set = await ok<{ date: string; hours: unknown }>(ctx.app, g.owner, 'PUT', `${g.base}/staff/${g.staffId}/date-hours/2026-03-25`, {
      hours: [{ start: '07:00', end: '08:00' }, { start: '17:00', end: '18:00' }],
    });
    assert.deepEqual(set, { date: '2026-03-25', hours: [{ start: '07:00', end: '08:00' }, { start: '17:00', end: '18:00' }] });
    assert.deepEqual(await startsOn(g, '2026-03-25'), ['07:00', '07:30', '17:00', '17:30']);
    assert.equal((await startsOn(g, '2026-03-26'))[0], '09:00', 'other dates keep the weekly hours');
    assert.equal((await book(g, '2026-03-25T17:30:00Z')).status, 201, 'extra hours are bookable');
    const weekly = await book(g, '2026-03-25T10:00:00Z');
    assert.equal(weekly.body.details?.reason, 'outside_working_hours', 'the date no longer has its weekly hours');
    const overlap = await call<Err>(ctx.app, g.owner, 'PUT', `${g.base}/staff/${g.staffId}/date-hours/2026-03-27`, { hours: [{ start: '07:00', end: '09:00' }, { start: '08:00', end: '10:00' }] });
    assert.equal(overlap.status, 400);
    assert.equal((await call(ctx.app, g.owner, 'PUT', `${g.base}/staff/${g.staffId}/date-hours/2026-02-30`, { hours: [{ start: '07:00', end: '09:00' }] })).status, 400);
    const list = await ok<{ items: Array<{ date: string }> }>(ctx.app, g.owner, 'GET', `${g.base}/staff/${g.staffId}/date-hours`);
    assert.deepEqual(list.items.map((i) => i.date), ['2026-03-25']);
    assert.equal((await call(ctx.app, g.owner, 'DELETE', `${g.base}/staff/${g.staffId}/date-hours/2026-03-25`)).status, 204);
    assert.equal((await startsOn(g, '2026-03-25'))[0], '09:00');
  });

  test('a tenant closure removes a day for every staff member, on both routes, until deleted', async () => {
    const g = await createBookingFixture(ctx.app);
    const second = await ok<{ id: string }>(ctx.app, g.owner, 'POST', `${g.base}/staff`, { displayName: 'Sam' });
    await ok(ctx.app, g.owner, 'PUT', `${g.base}/staff/${second.id}/services`, { serviceIds: [g.serviceId] });
    await ok(ctx.app, g.owner, 'PUT', `${g.base}/staff/${second.id}/hours`, { hours: [4].map((weekday) => ({ weekday, start: '08:00', end: '12:00' })) });
    assert.ok((await startsOn(g, '2026-03-26')).includes('08:00'));
    const closure = await call<{ id: string; start: string }>(ctx.app, g.owner, 'POST', `${g.base}/closures`, { start: '2026-03-26T00:00:00Z', end: '2026-03-27T00:00:00Z', reason: 'Holiday' });
    assert.equal(closure.status, 201);
    assert.deepEqual(await startsOn(g, '2026-03-26'), []);
    assert.ok((await startsOn(g, '2026-03-27')).length > 0);
    const refused = await book(g, '2026-03-26T10:00:00Z');
    assert.equal(refused.status, 422);
    assert.equal(refused.body.details?.reason, 'time_off');
    assert.equal((await guestBook(g, '2026-03-26T10:00:00Z')).body.details?.reason, 'time_off');
    const list = await ok<{ items: Array<{ id: string }> }>(ctx.app, g.owner, 'GET', `${g.base}/closures`);
    assert.deepEqual(list.items.map((c) => c.id), [closure.body.id]);
    assert.equal((await call(ctx.app, g.owner, 'POST', `${g.base}/closures`, { start: '2026-03-27T00:00:00Z', end: '2026-03-26T00:00:00Z' })).status, 400);
    assert.equal((await call(ctx.app, g.owner, 'DELETE', `${g.base}/closures/${closure.body.id}`)).status, 204);
    assert.equal((await call(ctx.app, g.owner, 'DELETE', `${g.base}/closures/${closure.body.id}`)).status, 404);
    assert.ok((await startsOn(g, '2026-03-26')).includes('08:00'));
  });

  test('a closure given as local dates spans whole days of the tenant zone, DST days included', async () => {
    type Closure = { id: string; start: string; end: string; reason?: string };
    const berlin = await createBookingFixture(ctx.app, { timezone: 'Europe/Berlin' }); // 09:00–17:00 local every day
    const spring = await ok<Closure>(ctx.app, berlin.owner, 'POST', `${berlin.base}/closures`, { date: '2026-03-29', reason: 'Spring' });
    assert.deepEqual([spring.start, spring.end, spring.reason], ['2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z', 'Spring'], 'a 23-hour day');
    const autumn = await ok<Closure>(ctx.app, berlin.owner, 'POST', `${berlin.base}/closures`, { from: '2026-10-24', to: '2026-10-25' });
    assert.deepEqual([autumn.start, autumn.end], ['2026-10-23T22:00:00.000Z', '2026-10-25T23:00:00.000Z'], 'a 24-hour and a 25-hour day, to included');
    const localStarts = async (day: string) =>
      (await ok<{ slots: Slot[] }>(ctx.app, berlin.owner, 'GET', `${berlin.base}/availability?serviceId=${berlin.serviceId}&from=${day}&to=${day}&limit=500`)).slots.map((x) => x.localStart.slice(11, 16));
    assert.deepEqual(await localStarts('2026-03-29'), []);
    assert.equal((await localStarts('2026-03-28'))[0], '09:00', 'the day before is open');
    assert.equal((await localStarts('2026-03-30')).at(-1), '16:30', 'the day after is open');
    assert.deepEqual(await localStarts('2026-10-25'), []);
    const refused = await book(berlin, '2026-03-29T07:00:00Z'); // 09:00 CEST
    assert.deepEqual([refused.status, refused.body.details?.reason], [422, 'time_off']);
    // Chile moves from 00:00 to 01:00 on 2026-09-06: that day starts at 01:00 local (04:00Z).
    const santiago = await createBookingFixture(ctx.app, { timezone: 'America/Santiago' });
    const gap = await ok<Closure>(ctx.app, santiago.owner, 'POST', `${santiago.base}/closures`, { date: '2026-09-06' });
    assert.deepEqual([gap.start, gap.end], ['2026-09-06T04:00:00.000Z', '2026-09-07T03:00:00.000Z']);
    const listed = await ok<{ items: Closure[] }>(ctx.app, berlin.owner, 'GET', `${berlin.base}/closures`);
    assert.deepEqual(listed.items.map((c) => c.id), [spring.id, autumn.id]);
  });

  test('closure input is strict: one form at a time, real dates, unknown fields refused, each 400 naming the field', async () => {
    const g = await createBookingFixture(ctx.app);
    for (const [body, field] of [
      [{ date: '2026-02-30' }, 'date'],
      [{ date: '2026-3-29' }, 'date'],
      [{ date: '2026-03-29T00:00:00Z' }, 'date'],
      [{ date: '2026-03-29', start: '2026-03-29T00:00:00Z' }, 'start'],
      [{ date: '2026-03-29', to: '2026-03-30' }, 'to'],
      [{ from: '2026-03-29' }, 'to'],
      [{ to: '2026-03-29' }, 'from'],
      [{ from: '2026-03-30', to: '2026-03-29' }, 'to'],
      [{ from: '2026-01-01', to: '2027-01-02' }, 'to'],
      [{ from: '2026-03-29', to: '2026-03-30', end: '2026-03-31T00:00:00Z' }, 'end'],
      [{ start: '2026-03-29T00:00:00Z' }, 'end'],
      [{}, 'start'],
      [{ day: '2026-03-29' }, 'day'],
    ] as const) {
      const res = await call<Err & { details: Array<{ field: string }> }>(ctx.app, g.owner, 'POST', `${g.base}/closures`, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body.code, 'validation_error', JSON.stringify(body));
      assert.ok(res.body.details.some((d) => d.field === field), `${JSON.stringify(body)} → ${JSON.stringify(res.body.details)}`);
    }
    assert.equal((await call(ctx.app, g.owner, 'POST', `${g.base}/closures`, { from: '2026-01-01', to: '2026-12-31' })).status, 201, '365 days, both included');
    const list = await ok<{ items: unknown[] }>(ctx.app, g.owner, 'GET', `${g.base}/closures`);
    assert.equal(list.items.length, 1, 'no refused input left a row');
  });

  test('timeZone renders localStart; date-only from/to are local days in that zone (DST day)', async () => {
    const g = await createBookingFixture(ctx.app); // tenant in UTC
    const slots = await slotsOf(g, 'from=2026-03-29&to=2026-03-29&timeZone=Europe/Berlin');
    // Berlin 2026-03-29 = [2026-03-28T23:00Z, 2026-03-29T22:00Z): 09:00–17:00 UTC all inside.
    assert.equal(slots[0]!.start, '2026-03-29T09:00:00.000Z');
    assert.equal(slots[0]!.localStart, '2026-03-29T11:00:00+02:00');
    assert.equal(slots[0]!.localEnd, '2026-03-29T11:30:00+02:00');
    const before = await slotsOf(g, 'from=2026-03-28&to=2026-03-28&timeZone=Europe/Berlin');
    assert.equal(before.at(-1)!.localStart, '2026-03-28T17:30:00+01:00', 'the day before the change is CET');
    const bad = await call<Err>(ctx.app, null, 'GET', `/api/public/tenants/${g.tenant.slug}/availability?serviceId=${g.serviceId}&from=2026-03-29&to=2026-03-29&timeZone=Mars/Olympus`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'validation_error');
    assert.equal((await call(ctx.app, null, 'GET', `/api/public/tenants/${g.tenant.slug}/availability?serviceId=${g.serviceId}&from=2026-03-01&to=2026-04-01`)).status, 400, 'still at most 31 days');
    assert.equal((await call(ctx.app, null, 'GET', `/api/public/tenants/${g.tenant.slug}/availability?serviceId=${g.serviceId}&from=2026-02-30&to=2026-03-02`)).status, 400);

    const berlin = await createBookingFixture(ctx.app, { timezone: 'Europe/Berlin' });
    const local = await ok<{ slots: Slot[] }>(ctx.app, berlin.owner, 'GET', `${berlin.base}/availability?serviceId=${berlin.serviceId}&from=2026-03-29&to=2026-03-29`);
    assert.equal(local.slots[0]!.start, '2026-03-29T07:00:00.000Z', 'date-only in the tenant zone; 09:00 CEST');
    assert.equal(local.slots[0]!.localStart, '2026-03-29T09:00:00+02:00');
    assert.equal(local.slots.at(-1)!.localStart, '2026-03-29T16:30:00+02:00');
  });
});
