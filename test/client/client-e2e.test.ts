import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { createBokaClient, type BokaClient } from '@boka/client';
import { createTestApp, TEST_PASSWORD, type TestContext, uniqueEmail } from '../helpers/app.js';

/**
 * Issue 19: the generated client (packages/client) drives the real app over a real socket from
 * sign-up to a cancelled booking. Every call below goes through `createBokaClient` only; its types
 * come from the committed OpenAPI document, so this file also fails `tsc` when a route used here
 * changes shape.
 */

let ctx: TestContext;
let baseUrl: string;
before(async () => {
  ctx = await createTestApp({ env: { AUTH_SIGNUP_MODE: 'open' } });
  await ctx.app.listen({ host: '127.0.0.1', port: 0 });
  baseUrl = `http://127.0.0.1:${(ctx.app.server.address() as AddressInfo).port}`;
});
after(async () => ctx.close());

const DAY_MS = 24 * 60 * 60 * 1000;

function startOfUtcDay(ms: number): Date {
  const d = new Date(ms);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
}

async function signUpThroughClient(): Promise<BokaClient> {
  const anonymous = createBokaClient({ baseUrl });
  const signup = await anonymous.POST('/api/auth/signup', { body: { email: uniqueEmail('client'), password: TEST_PASSWORD, name: 'Client E2E' } });
  assert.equal(signup.response.status, 201, JSON.stringify(signup.error));
  const tokens = signup.data;
  assert.ok(tokens && 'accessToken' in tokens, 'open sign-up answers with tokens');
  return createBokaClient({ baseUrl, token: tokens.accessToken });
}

test('sign up, tenant, service, staff, hours, availability, book, cancel: all through the generated client', async () => {
  const client = await signUpThroughClient();
  const me = await client.GET('/api/auth/me');
  assert.equal(me.response.status, 200);
  assert.equal(me.data?.user.name, 'Client E2E');

  const slug = `client-${Date.now().toString(36)}`;
  const tenant = await client.POST('/api/tenants', { body: { name: 'Client E2E studio', slug } });
  assert.equal(tenant.response.status, 201, JSON.stringify(tenant.error));
  const tenantId = tenant.data!.id;
  const path = { tenantId };

  const service = await client.POST('/api/tenants/{tenantId}/services', {
    params: { path },
    body: { name: 'Consultation', durationMinutes: 30, priceCents: 4000, currency: 'EUR' },
  });
  assert.equal(service.response.status, 201, JSON.stringify(service.error));
  const serviceId = service.data!.id;

  const staff = await client.POST('/api/tenants/{tenantId}/staff', { params: { path }, body: { displayName: 'Dr. Client' } });
  assert.equal(staff.response.status, 201, JSON.stringify(staff.error));
  const staffId = staff.data!.id;

  const performs = await client.PUT('/api/tenants/{tenantId}/staff/{id}/services', {
    params: { path: { tenantId, id: staffId } },
    body: { serviceIds: [serviceId] },
  });
  assert.deepEqual(performs.data?.serviceIds, [serviceId]);

  const everyDay = [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, start: '09:00', end: '17:00' }));
  const hours = await client.PUT('/api/tenants/{tenantId}/staff/{id}/hours', { params: { path: { tenantId, id: staffId } }, body: { hours: everyDay } });
  assert.equal(hours.response.status, 200, JSON.stringify(hours.error));
  assert.equal(hours.data?.hours.length, 7);

  const customer = await client.POST('/api/tenants/{tenantId}/customers', {
    params: { path },
    body: { name: 'Client Customer', email: uniqueEmail('customer') },
  });
  assert.equal(customer.response.status, 201, JSON.stringify(customer.error));
  const customerId = customer.data!.id;

  // Tomorrow and the six days after it, in the tenant's zone (UTC by default): 09:00–17:00 every day.
  const from = new Date(startOfUtcDay(Date.now()).getTime() + DAY_MS).toISOString();
  const to = new Date(Date.parse(from) + 7 * DAY_MS).toISOString();
  const query = { serviceId, from, to, limit: 5 };
  const availability = await client.GET('/api/tenants/{tenantId}/availability', { params: { path, query } });
  assert.equal(availability.response.status, 200, JSON.stringify(availability.error));
  const slot = availability.data!.slots[0];
  assert.ok(slot, 'a slot tomorrow');
  assert.equal(slot.staffId, staffId);
  assert.equal(new Date(slot.start).getUTCHours(), 9);

  const booked = await client.POST('/api/tenants/{tenantId}/reservations', {
    params: { path },
    body: { serviceId, staffId, customerId, start: slot.start },
  });
  assert.equal(booked.response.status, 201, JSON.stringify(booked.error));
  const reservation = booked.data!;
  assert.equal(Date.parse(reservation.start), Date.parse(slot.start));
  assert.notEqual(reservation.status, 'cancelled');

  // The taken slot is gone, and booking it again is a typed, documented error.
  const after = await client.GET('/api/tenants/{tenantId}/availability', { params: { path, query } });
  assert.ok(!after.data!.slots.some((s) => s.start === slot.start), 'the booked slot is no longer offered');
  const twice = await client.POST('/api/tenants/{tenantId}/reservations', {
    params: { path },
    body: { serviceId, staffId, customerId, start: slot.start },
  });
  assert.equal(twice.response.status, 409);
  assert.equal(twice.error?.code, 'conflict');

  const cancelled = await client.PATCH('/api/tenants/{tenantId}/reservations/{id}', {
    params: { path: { tenantId, id: reservation.id } },
    body: { status: 'cancelled' },
  });
  assert.equal(cancelled.response.status, 200, JSON.stringify(cancelled.error));
  assert.equal(cancelled.data?.status, 'cancelled');

  const reopened = await client.GET('/api/tenants/{tenantId}/availability', { params: { path, query } });
  assert.ok(reopened.data!.slots.some((s) => s.start === slot.start), 'cancelling frees the slot again');
});

test('the client sends no credential unless given one, and errors arrive in the documented shape', async () => {
  const anonymous = createBokaClient({ baseUrl });
  const me = await anonymous.GET('/api/auth/me');
  assert.equal(me.response.status, 401);
  assert.equal(me.error?.code, 'missing_authorization');
  assert.equal(me.response.headers.get('www-authenticate'), 'Bearer realm="boka"');
  const health = await anonymous.GET('/api/health');
  assert.equal(health.data?.status, 'ok');
});

/**
 * Type-level checks, compiled by `tsc` and never run: if the generated types were loose (`any`),
 * each `@ts-expect-error` would be unused and `tsc` would fail. The same mechanism makes a
 * breaking route change fail the build for every caller.
 */
export function clientTypeChecks(client: BokaClient, tenantId: string): void {
  // @ts-expect-error: no such operation in the document
  void client.GET('/api/no-such-route');
  // @ts-expect-error: durationMinutes is required
  void client.POST('/api/tenants/{tenantId}/services', { params: { path: { tenantId } }, body: { name: 'x', priceCents: 1 } });
  // @ts-expect-error: tenant routes need the tenantId path parameter
  void client.GET('/api/tenants/{tenantId}/services', {});
  // `limit` has a default, so it may be left out (issue 19).
  void client.GET('/api/tenants/{tenantId}/services', { params: { path: { tenantId } } });
}
