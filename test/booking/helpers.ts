import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../src/shared/clock.js';
import { addMember, bearer, createTenant, signUp, type SignedInUser } from '../helpers/app.js';

/** A settable clock: Monday 2026-03-23 06:00 UTC unless moved. */
export function createTestClock(start = Date.parse('2026-03-23T06:00:00Z')): Clock & { set(t: number): void } {
  let t = start;
  return { now: () => t, set: (v: number) => void (t = v) };
}

export async function call<T = unknown>(
  app: FastifyInstance,
  user: SignedInUser | null,
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
  url: string,
  payload?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await app.inject({
    method,
    url,
    headers: user ? bearer(user.accessToken) : {},
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
  return { status: res.statusCode, body: res.body ? (res.json() as T) : (undefined as T) };
}

export async function ok<T = Record<string, unknown>>(
  app: FastifyInstance,
  user: SignedInUser | null,
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
  url: string,
  payload?: unknown,
): Promise<T> {
  const res = await call<T>(app, user, method, url, payload);
  if (res.status >= 300) throw new Error(`${method} ${url} → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export interface BookingFixture {
  owner: SignedInUser;
  tenant: { id: string; slug: string };
  base: string;
  serviceId: string;
  staffId: string;
  customerId: string;
}

/**
 * A tenant (UTC) with one 30-minute service (10-minute buffer), one staff member working
 * 09:00–17:00 every day who performs it, and one customer.
 */
export async function createBookingFixture(app: FastifyInstance, opts: { timezone?: string; staffUser?: SignedInUser } = {}): Promise<BookingFixture> {
  const owner = await signUp(app, 'owner');
  const tenant = await createTenant(app, owner);
  const base = `/api/tenants/${tenant.id}`;
  if (opts.timezone) await ok(app, owner, 'PATCH', `${base}/settings`, { timezone: opts.timezone });
  const service = await ok<{ id: string }>(app, owner, 'POST', `${base}/services`, {
    name: 'Haircut',
    durationMinutes: 30,
    bufferMinutes: 10,
    priceCents: 2500,
    currency: 'EUR',
  });
  if (opts.staffUser) await addMember(app, owner, tenant.id, opts.staffUser, 'staff');
  const staff = await ok<{ id: string }>(app, owner, 'POST', `${base}/staff`, {
    displayName: 'Alex',
    ...(opts.staffUser ? { userId: opts.staffUser.id } : {}),
  });
  await ok(app, owner, 'PUT', `${base}/staff/${staff.id}/services`, { serviceIds: [service.id] });
  await ok(app, owner, 'PUT', `${base}/staff/${staff.id}/hours`, {
    hours: [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, start: '09:00', end: '17:00' })),
  });
  const customer = await ok<{ id: string }>(app, owner, 'POST', `${base}/customers`, { name: 'Casey', email: `casey-${tenant.slug}@example.test` });
  return { owner, tenant, base, serviceId: service.id, staffId: staff.id, customerId: customer.id };
}
