import type { FastifyInstance } from 'fastify';
import type { Queryable } from '../../src/db/index.js';
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

export type RecordedEffect =
  | { job: 'webhook.deliver'; event: string; data: Record<string, unknown> }
  | { job: 'reservation.mail'; kind: string }
  | { job: 'booking.guest_mail'; kind: string };

/**
 * What the outbox holds for one reservation (ADR 0024): the jobs its changes wrote in their own
 * transactions, whatever their state since, ordered by job name, then event or mail kind. The
 * jobs table is where a reservation change is described (ADR 0029).
 */
export async function recordedEffects(db: Queryable, reservationId: string): Promise<RecordedEffect[]> {
  const rows = (await db.query<{ name: string; payload: Record<string, unknown> }>(
    `SELECT name, payload FROM jobs
      WHERE name IN ('webhook.deliver', 'reservation.mail', 'booking.guest_mail')
        AND $1 IN (payload->>'reservationId', payload->'data'->>'reservationId')`,
    [reservationId],
  )).rows;
  const effects = rows.map(({ name, payload: p }): RecordedEffect =>
    name === 'webhook.deliver'
      ? { job: name, event: p.event as string, data: p.data as Record<string, unknown> }
      : { job: name as 'reservation.mail' | 'booking.guest_mail', kind: p.kind as string });
  const key = (e: RecordedEffect) => `${e.job} ${'event' in e ? e.event : e.kind}`;
  return effects.sort((a, b) => key(a).localeCompare(key(b)));
}
