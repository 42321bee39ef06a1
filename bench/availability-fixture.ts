import type { FastifyInstance } from 'fastify';
import { createBookingFixture, ok } from '../test/booking/helpers.js';

/** The worst availability query the API allows (issue 12, item 1), by shape. */
export interface WorstTenant {
  slug: string;
  tenantId: string;
  serviceId: string;
  /** Path of each shape's first page (anonymous public route, 31 days, `limit=500`). */
  paths: Record<'free' | 'booked', string>;
}

/**
 * A tenant with 100 staff open 24 h, every day, for a 5-minute service, each with 31 days of
 * time off from 2026-04-01. "free": 31 days from 2026-03-24, the page fills with 500 slots.
 * "booked": 31 days inside the time off, every candidate is refused, so the request stops at
 * the candidate budget. The clock must be before 2026-03-24 (the benches use 2026-03-23).
 */
export async function seedWorstTenant(app: FastifyInstance, staffCount = 100): Promise<WorstTenant> {
  const g = await createBookingFixture(app);
  const tiny = await ok<{ id: string }>(app, g.owner, 'POST', `${g.base}/services`, { name: 'Tiny', durationMinutes: 5, bufferMinutes: 0, priceCents: 100, currency: 'EUR' });
  for (let i = 0; i < staffCount; i += 1) {
    const staff = await ok<{ id: string }>(app, g.owner, 'POST', `${g.base}/staff`, { displayName: `Staff ${i}` });
    await ok(app, g.owner, 'PUT', `${g.base}/staff/${staff.id}/services`, { serviceIds: [tiny.id] });
    await ok(app, g.owner, 'PUT', `${g.base}/staff/${staff.id}/hours`, { hours: [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, start: '00:00', end: '24:00' })) });
    await ok(app, g.owner, 'POST', `${g.base}/staff/${staff.id}/time-off`, { start: '2026-04-01T00:00:00Z', end: '2026-05-03T00:00:00Z', reason: 'bench' });
  }
  const q = (from: string, to: string) => `/api/public/tenants/${g.tenant.slug}/availability?serviceId=${tiny.id}&from=${from}&to=${to}&limit=500`;
  return {
    slug: g.tenant.slug,
    tenantId: g.tenant.id,
    serviceId: tiny.id,
    paths: {
      free: q('2026-03-24T00:00:00Z', '2026-04-24T00:00:00Z'),
      booked: q('2026-04-01T00:00:00Z', '2026-05-02T00:00:00Z'),
    },
  };
}
