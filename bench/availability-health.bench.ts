import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { createBookingFixture, createTestClock, ok } from '../test/booking/helpers.js';
import { createTestApp } from '../test/helpers/app.js';
import { percentile } from './machine.js';

/**
 * Issue 12, item 1: p99 of `GET /api/health` while the worst availability query the API allows
 * runs concurrently. Tenant: 100 staff open 24 h for a 5-minute service; query: 31 days,
 * `limit=500` (the maximum), anonymous, over a real port on 127.0.0.1. Two shapes: all free
 * (stops at the 500-slot limit) and fully booked (stops at the candidate budget). The
 * availability budget is turned off here so the loop measures the computation, not 429s.
 */
export async function run(): Promise<string> {
  const clock = createTestClock(Date.parse('2026-03-23T06:00:00Z'));
  const ctx = await createTestApp({
    env: { RATE_LIMIT_AVAILABILITY_PER_CALLER_PER_MINUTE: '0', RATE_LIMIT_AVAILABILITY_PER_TENANT_PER_MINUTE: '0', RATE_LIMIT_PER_PRINCIPAL_PER_MINUTE: '0' },
    deps: { clock },
  });
  try {
    const { app } = ctx;
    const g = await createBookingFixture(app);
    const tiny = await ok<{ id: string }>(app, g.owner, 'POST', `${g.base}/services`, { name: 'Tiny', durationMinutes: 5, bufferMinutes: 0, priceCents: 100, currency: 'EUR' });
    const blocker = await ok<{ id: string }>(app, g.owner, 'POST', `${g.base}/services`, { name: 'Blocker', durationMinutes: 5, bufferMinutes: 0, priceCents: 100, currency: 'EUR' });
    for (let i = 0; i < 100; i += 1) {
      const staff = await ok<{ id: string }>(app, g.owner, 'POST', `${g.base}/staff`, { displayName: `Staff ${i}` });
      await ok(app, g.owner, 'PUT', `${g.base}/staff/${staff.id}/services`, { serviceIds: [tiny.id, blocker.id] });
      await ok(app, g.owner, 'PUT', `${g.base}/staff/${staff.id}/hours`, { hours: [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, start: '00:00', end: '24:00' })) });
      // "Fully booked": 31 days of time off, so every candidate is examined and refused.
      await ok(app, g.owner, 'POST', `${g.base}/staff/${staff.id}/time-off`, { start: '2026-04-01T00:00:00Z', end: '2026-05-03T00:00:00Z', reason: 'bench' });
    }
    console.error('  tenant ready (100 staff)');
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const pool = new Pool(address, { connections: 16 });
    const get = async (path: string): Promise<{ status: number; bytes: number }> => {
      const res = await pool.request({ method: 'GET', path });
      const body = Buffer.from(await res.body.arrayBuffer());
      return { status: res.statusCode, bytes: body.length };
    };
    const q = (from: string, to: string) => `/api/public/tenants/${g.tenant.slug}/availability?serviceId=${tiny.id}&from=${from}&to=${to}&limit=500`;
    const shapes = {
      'all free (stops at 500 slots)': q('2026-03-24T00:00:00Z', '2026-04-24T00:00:00Z'),
      'fully booked (stops at the candidate budget)': q('2026-04-01T00:00:00Z', '2026-05-02T00:00:00Z'),
    };
    const rows: string[] = [];
    const health = async (n: number) => {
      const times: number[] = [];
      for (let i = 0; i < n; i += 1) {
        const t = performance.now();
        await get('/api/health');
        times.push(performance.now() - t);
      }
      return times.sort((a, b) => a - b);
    };
    await health(200); // warm-up
    const idle = await health(1000);
    rows.push(`| none (baseline, same run) | — | — | — | ${fmt(percentile(idle, 50))} | ${fmt(percentile(idle, 99))} | ${fmt(idle.at(-1)!)} |`);
    for (const [label, path] of Object.entries(shapes)) {
      console.error(`  measuring: ${label}`);
      const first = await get(path);
      if (first.status !== 200) throw new Error(`${label}: ${first.status}`);
      let stop = false;
      const availTimes: number[] = [];
      // 4 concurrent clients loop the worst query (bounded by `stop` and 100 000 requests each).
      const loops = Array.from({ length: 4 }, async () => {
        for (let i = 0; i < 100_000 && !stop; i += 1) {
          const t = performance.now();
          const r = await get(path);
          if (r.status !== 200) throw new Error(`${label}: ${r.status}`);
          availTimes.push(performance.now() - t);
        }
      });
      const busy = await health(1000);
      stop = true;
      await Promise.all(loops);
      availTimes.sort((a, b) => a - b);
      rows.push(
        `| ${label}, 4 concurrent | ${(first.bytes / 1024).toFixed(0)} KiB | ${availTimes.length} | ${fmt(percentile(availTimes, 99))} | ${fmt(percentile(busy, 50))} | ${fmt(percentile(busy, 99))} | ${fmt(busy.at(-1)!)} |`,
      );
    }
    await pool.close();
    return [
      '## Health while the worst allowed availability query runs (issue 12, item 1)',
      '',
      'Tenant with 100 staff open 24 h, 5-minute service, 31-day range, `limit=500`, anonymous, real port on 127.0.0.1; 1 000 sequential `GET /api/health` measured while 4 clients loop the availability query.',
      '',
      '| concurrent availability load | response size | availability requests | availability p99 ms | health p50 ms | health p99 ms | health max ms |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows,
      '',
    ].join('\n');
  } finally {
    await ctx.close();
  }
}

function fmt(ms: number): string {
  return ms.toFixed(2);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await run());
}
