// Boka for the availability-under-load benchmark, in its own process so the load generator
// never shares the server's event loop: the real app on a fresh database (embedded PGlite, or a
// scratch database on the server named by DATABASE_URL) with the worst tenant of issue 12,
// item 1. Prints {port, database, paths} on stdout; SIGTERM closes the app and drops the database.
// Its own event-loop delay (1 ms resolution) is the load-independent figure: a line `reset` on
// stdin clears the histogram, `report` answers {p50, p99, max} in ms and the process CPU time
// since the reset (cpuMs) on stdout.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { createTestClock } from '../../test/booking/helpers.js';
import { createTestApp } from '../../test/helpers/app.js';
import { seedWorstTenant } from '../availability-fixture.js';

const ctx = await createTestApp({
  // Budgets off: the benchmark drives the query harder than they allow, to measure the
  // computation and not 429s (the "at the budget" phase paces itself).
  env: {
    RATE_LIMIT_AVAILABILITY_PER_CALLER_PER_MINUTE: '0',
    RATE_LIMIT_AVAILABILITY_PER_TENANT_PER_MINUTE: '0',
    RATE_LIMIT_PER_PRINCIPAL_PER_MINUTE: '0',
  },
  deps: { clock: createTestClock(Date.parse('2026-03-23T06:00:00Z')) },
});
const worst = await seedWorstTenant(ctx.app);
await ctx.app.listen({ host: '127.0.0.1', port: 0 });
const address = ctx.app.server.address();
process.stdout.write(
  `${JSON.stringify({
    port: typeof address === 'object' && address ? address.port : 0,
    database: ctx.database.db.kind === 'postgres' ? 'PostgreSQL server' : 'embedded PGlite',
    paths: worst.paths,
  })}\n`,
);
const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
let cpuAtReset = process.cpuUsage();
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'reset') {
    delay.reset();
    cpuAtReset = process.cpuUsage();
    process.stdout.write('{}\n');
  } else if (line === 'report') {
    const ms = (ns: number) => ns / 1e6;
    const cpu = process.cpuUsage(cpuAtReset);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    process.stdout.write(`${JSON.stringify({ p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max), cpuMs })}\n`);
  }
});
process.once('SIGTERM', () => {
  void ctx.close().finally(() => process.exit(0));
});
