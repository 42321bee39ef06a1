import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createAvailabilityService } from '../src/booking/availability.service.js';
import { withTenant } from '../src/db/index.js';
import { systemClock } from '../src/shared/clock.js';
import { bearer, createTenant, createTestApp, signUp } from '../test/helpers/app.js';
import { percentile } from './machine.js';

/**
 * Availability for one day of a tenant with 20 staff and 200 reservations (goal: p99 ≤ 5 ms on
 * PostgreSQL), and reservation-create throughput under 50 concurrent clients. Runs on the server
 * named by DATABASE_URL (a scratch database) or on in-memory PGlite.
 */
export async function run(): Promise<string> {
  const ctx = await createTestApp();
  try {
    const { app, database } = ctx;
    const db = database.db;
    const owner = await signUp(app, 'bench-owner');
    const tenant = await createTenant(app, owner);
    const base = `/api/tenants/${tenant.id}`;
    const post = async <T>(url: string, payload: unknown, method: 'POST' | 'PUT' = 'POST'): Promise<T> => {
      const res = await app.inject({ method, url, headers: bearer(owner.accessToken), payload: payload as Record<string, unknown> });
      if (res.statusCode >= 300) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
      return res.json<T>();
    };

    const service = await post<{ id: string }>(`${base}/services`, { name: 'Cut', durationMinutes: 30, bufferMinutes: 10, priceCents: 3000 });
    const customer = await post<{ id: string }>(`${base}/customers`, { name: 'Bench', email: 'bench@example.test' });
    const staffIds: string[] = [];
    for (let i = 0; i < 20; i += 1) {
      const s = await post<{ id: string }>(`${base}/staff`, { displayName: `Staff ${i}` });
      await post(`${base}/staff/${s.id}/services`, { serviceIds: [service.id] }, 'PUT');
      await post(`${base}/staff/${s.id}/hours`, { hours: [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, start: '08:00', end: '20:00' })) }, 'PUT');
      staffIds.push(s.id);
    }
    // The measured day: 30 days ahead, UTC midnight. 10 reservations per staff member = 200.
    const day = Math.floor(systemClock.now() / 86_400_000 + 30) * 86_400_000;
    await withTenant(db, tenant.id, async (tx) => {
      for (const staffId of staffIds) {
        for (let k = 0; k < 10; k += 1) {
          const start = day + (8 * 60 + k * 60) * 60_000;
          await tx.query(
            `INSERT INTO reservations (id, tenant_id, service_id, staff_id, customer_id, starts_at, ends_at, blocked_until, status)
             VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7, 'confirmed')`,
            [tenant.id, service.id, staffId, customer.id, new Date(start), new Date(start + 30 * 60_000), new Date(start + 40 * 60_000)],
          );
        }
      }
    });

    const availability = createAvailabilityService({ db, clock: systemClock });
    const query = { serviceId: service.id, from: new Date(day).toISOString(), to: new Date(day + 86_400_000).toISOString() };
    const sample = await availability.slots(tenant.id, query);
    const serviceTimes = await measure(3000, () => availability.slots(tenant.id, query));
    const url = `/api/public/tenants/${tenant.slug}/availability?serviceId=${service.id}&from=${query.from}&to=${query.to}`;
    const httpTimes = await measure(1000, () => app.inject({ method: 'GET', url }));

    // Create throughput: 50 concurrent clients, each with its own (staff, slot) sequence on later days.
    const clients = 50;
    const perClient = 10;
    const jobs: string[][] = Array.from({ length: clients }, () => []);
    let n = 0;
    for (let d = 31; n < clients * perClient; d += 1) {
      for (const staffId of staffIds) {
        for (let k = 0; k < 24 && n < clients * perClient; k += 1) {
          const start = new Date(Math.floor(systemClock.now() / 86_400_000 + d) * 86_400_000 + (8 * 60 + k * 30) * 60_000);
          // 30-minute grid, 10-minute buffer: skip every other slot so no two jobs overlap.
          if (k % 2 === 1) continue;
          jobs[n % clients]!.push(JSON.stringify({ serviceId: service.id, staffId, customerId: customer.id, start: start.toISOString() }));
          n += 1;
        }
      }
    }
    const statuses = new Map<number, number>();
    const t0 = performance.now();
    await Promise.all(
      jobs.map(async (bodies) => {
        for (const payload of bodies) {
          const res = await app.inject({ method: 'POST', url: `${base}/reservations`, headers: { ...bearer(owner.accessToken), 'content-type': 'application/json' }, payload });
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        }
      }),
    );
    const elapsed = (performance.now() - t0) / 1000;
    const created = statuses.get(201) ?? 0;

    const cpu = cpus()[0]?.model ?? 'unknown CPU';
    return [
      '## Availability and reservation create',
      '',
      `Machine: ${cpu}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}; database: ${db.kind === 'postgres' ? 'PostgreSQL server (DATABASE_URL)' : 'PGlite (in-memory)'}; ${new Date().toISOString().slice(0, 10)}.`,
      '',
      `Tenant with 20 staff (08:00–20:00 daily), 200 confirmed reservations on the measured day, 30-minute service + 10-minute buffer; ${sample.slots.length} free slots returned.`,
      '',
      '| measurement | n | p50 | p99 |',
      '| --- | ---: | ---: | ---: |',
      `| availability, one day (service call: 1 transaction, 3 queries + pure slot computation) | ${serviceTimes.length} | ${fmt(percentile(serviceTimes, 50))} ms | ${fmt(percentile(serviceTimes, 99))} ms |`,
      `| availability, one day (HTTP, public endpoint via inject) | ${httpTimes.length} | ${fmt(percentile(httpTimes, 50))} ms | ${fmt(percentile(httpTimes, 99))} ms |`,
      '',
      `Reservation create, ${clients} concurrent clients × ${perClient} requests (inject, full pipeline incl. JWT check): ` +
        `${created} created in ${elapsed.toFixed(2)} s = **${(created / elapsed).toFixed(0)} reservations/s**; ` +
        `statuses ${JSON.stringify(Object.fromEntries(statuses))}.`,
      '',
    ].join('\n');
  } finally {
    await ctx.close();
  }
}

async function measure(iterations: number, fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 30; i += 1) await fn(); // warm-up (JIT, plan cache, pool)
  const out: number[] = [];
  for (let i = 0; i < iterations; i += 1) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}

function fmt(ms: number): string {
  return ms.toFixed(2);
}

// Direct run: `npx tsx bench/availability.bench.ts`
if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await run());
}
