/**
 * Load benchmark (npm run bench:load). Two modes:
 *  - default: starts Boka (`node src/main.ts`, a child process) on 127.0.0.1 against a scratch
 *    database on DATABASE_URL, plus an empty Fastify route as the baseline, creates distinct
 *    sessions directly through the services, and drives a mix of authenticated routes;
 *    with REDIS_URL a second instance measures revoke-on-A → rejected-on-B delays.
 *  - `--url http://host:port`: targets a running Boka, creating its own users and tenant over
 *    HTTP (a staging load test before a rollout). Non-loopback targets need `--allow-remote`.
 * Each mode runs two measured phases over the same `--connections`:
 *  1. closed loop (autocannon): saturation throughput; latency there is queueing;
 *  2. open loop (`open-loop.ts`): `--rate` req/s (default `50%` of phase 1's throughput) arriving
 *     independently, latency from each request's scheduled arrival.
 * `--routes me,tenant,reservations` picks the mix; `--skip-baseline` skips the empty route;
 * `--open-runs N` repeats the open-loop phase (default 5: issue 16 asks every run to pass);
 * `--cpu-prof-dir DIR` makes the Boka servers write V8 CPU profiles there; `--pool N` sets each
 * instance's DATABASE_POOL_MAX (default 20).
 * Each phase also prints what PostgreSQL's backends for the scratch database were waiting on
 * (`pg_stat_activity` every 100 ms, `pg-waits.ts`). At the end, each server's slow seconds
 * (server-side p99 over 100 ms, from its own request lines) are listed with the phase they fell
 * in and those waits (`server-timeline.ts`). Everything is bounded by --duration (seconds per phase).
 *
 *   npm run bench:load -- --connections 1000 --duration 30
 *   npm run bench:load -- --url http://127.0.0.1:3000 --sessions 50 --connections 100 --duration 10
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pg from 'pg';
import { runOpenLoop, type OpenLoopResult } from './open-loop.js';
import { printSlowSeconds, type PhaseWindow } from './server-timeline.js';
import { samplePgWaits, type PgWaits } from './pg-waits.js';

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p90: number; p99: number; p97_5: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
}
interface AutocannonClient {
  setRequests(requests: Array<{ method: string; path: string; headers?: Record<string, string> }>): void;
}
type Autocannon = (opts: Record<string, unknown>, cb: (err: Error | null, result: AutocannonResult) => void) => unknown;
// autocannon ships no type declarations; this is the slice of its API used here.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const PASSWORD = 'bench password 0123456789';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    'allow-remote': { type: 'boolean', default: false },
    connections: { type: 'string', default: '1000' },
    duration: { type: 'string', default: '30' },
    sessions: { type: 'string', default: '' },
    'revoke-samples': { type: 'string', default: '50' },
    routes: { type: 'string', default: 'me,tenant,reservations' },
    'skip-baseline': { type: 'boolean', default: false },
    'cpu-prof-dir': { type: 'string' },
    rate: { type: 'string', default: '50%' },
    'open-runs': { type: 'string', default: '5' },
    pool: { type: 'string', default: '20' },
  },
});
const connections = Number(args.connections);
const duration = Math.min(Number(args.duration), 120);
const children: ChildProcess[] = [];
const logDir = mkdtempSync(join(tmpdir(), 'boka-bench-load-'));
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));

/**
 * Closed loop (autocannon): every connection sends its next request as soon as the previous
 * one is answered, so the server runs saturated and latency is mostly queueing (Little's law:
 * mean latency ≈ connections / throughput). `runOpenLoop` offers a fixed rate instead.
 */
function runLoad(url: string, setupClient?: (client: AutocannonClient) => void, path = '/'): Promise<AutocannonResult> {
  return new Promise((resolve, reject) => {
    autocannon({ url: `${url}${path}`, connections, duration, ...(setupClient ? { setupClient } : {}) }, (err, result) =>
      err ? reject(err) : resolve(result),
    );
  });
}

/** `--rate 4000` (req/s) or `--rate 50%` (of the closed-loop throughput just measured). */
function offeredRate(spec: string, saturatedRps: number): number {
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(spec);
  const rate = percent ? (saturatedRps * Number(percent[1])) / 100 : Number(spec);
  if (!Number.isFinite(rate) || rate <= 0) throw new Error(`--rate: expected req/s or a percentage, got ${spec}`);
  return Math.round(rate);
}

/**
 * Starts a server with its stdout in a file, not a pipe to this process: a pipe would make the
 * load generator read (and the server wait on) every request line while it measures.
 */
function startProcess(script: string[], env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  // --cpu-prof-dir: each server writes a V8 CPU profile there when it exits (open it in Chrome DevTools).
  const profile = args['cpu-prof-dir'] ? ['--cpu-prof', `--cpu-prof-dir=${args['cpu-prof-dir']}`] : [];
  const logFile = join(logDir, `${children.length}-${script.join('-').replace(/[^a-z0-9.-]/gi, '_')}.log`);
  const out = openSync(logFile, 'w');
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', ...script], {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', NODE_ENV: 'development', ...env },
    stdio: ['ignore', out, 'inherit'],
  });
  closeSync(out);
  children.push(child);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const poll = setInterval(() => {
      const m = /listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(readFileSync(logFile, 'utf8'));
      if (m) {
        clearInterval(poll);
        resolve({ url: m[1]!, child });
      } else if (performance.now() - started > 30_000) {
        clearInterval(poll);
        reject(new Error(`${script.join(' ')} did not start`));
      }
    }, 100);
    child.on('exit', (code) => {
      clearInterval(poll);
      reject(new Error(`${script.join(' ')} exited with ${code}`));
    });
  });
}

/** The servers' warnings and errors belong in the report (request lines are level 30). */
function printWarnings(logFile: string): void {
  const lines = readFileSync(logFile, 'utf8').split('\n').filter((line) => /"level":[4-6]0/.test(line));
  for (const line of lines.slice(0, 20)) console.log(`  [${logFile}] ${line.slice(0, 300)}`);
  if (lines.length > 20) console.log(`  [${logFile}] … ${lines.length - 20} more warnings or errors`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function http(base: string, method: string, path: string, token?: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: (await res.text().then((t) => (t ? JSON.parse(t) : null))) as Record<string, unknown> };
}

type CacheCounts = Map<string, { hit: number; miss: number }>;

/** What one /metrics scrape says: cache lookups, and what explains a latency tail. */
interface Scrape {
  caches: CacheCounts;
  /** Event-loop delay since the previous scrape (prom-client resets its histogram on each). */
  loopP99Ms: number;
  loopMaxMs: number;
  /** Cumulative seconds in garbage collection, how many collections, and how many took over 100 ms (all kinds). */
  gcSeconds: number;
  gcCount: number;
  gcOver100ms: number;
  /** Database statements the server timed (top-level ones include the wait for a pooled connection). */
  dbStatements: number;
  dbOver100ms: number;
  dbOver1s: number;
}

const sample = (text: string, name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
const sumOf = (text: string, name: string) => [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((a, m) => a + Number(m[1]), 0);

/** A histogram's cumulative count at bucket `le` (summed over its label sets). */
const bucket = (text: string, name: string, le: string) =>
  [...text.matchAll(new RegExp(`^${name}_bucket\\{(?:[^}]*,)?le="${le.replace('.', '\\.')}"[^}]*\\} (\\S+)$`, 'gm'))].reduce((a, m) => a + Number(m[1]), 0);

/** One scrape of /metrics (null if not reachable). */
async function scrape(base: string): Promise<Scrape | null> {
  const res = await fetch(`${base}/metrics`).catch(() => null);
  if (!res || res.status !== 200) return null;
  const text = await res.text();
  const caches: CacheCounts = new Map();
  for (const m of text.matchAll(/^boka_cache_requests_total\{([^}]*)\} (\S+)$/gm)) {
    const cache = /cache="([^"]+)"/.exec(m[1]!)?.[1] ?? '?';
    const result = /result="(hit|miss)"/.exec(m[1]!)?.[1] as 'hit' | 'miss' | undefined;
    if (!result) continue;
    const c = caches.get(cache) ?? { hit: 0, miss: 0 };
    c[result] += Number(m[2]);
    caches.set(cache, c);
  }
  return {
    caches,
    loopP99Ms: sample(text, 'nodejs_eventloop_lag_p99_seconds') * 1000,
    loopMaxMs: sample(text, 'nodejs_eventloop_lag_max_seconds') * 1000,
    gcSeconds: sumOf(text, 'nodejs_gc_duration_seconds_sum'),
    gcCount: sumOf(text, 'nodejs_gc_duration_seconds_count'),
    gcOver100ms: sumOf(text, 'nodejs_gc_duration_seconds_count') - bucket(text, 'nodejs_gc_duration_seconds', '0.1'),
    dbStatements: sumOf(text, 'boka_db_query_duration_seconds_count'),
    dbOver100ms: sumOf(text, 'boka_db_query_duration_seconds_count') - bucket(text, 'boka_db_query_duration_seconds', '0.1'),
    dbOver1s: sumOf(text, 'boka_db_query_duration_seconds_count') - bucket(text, 'boka_db_query_duration_seconds', '1'),
  };
}

/** Hit rate (%) between two scrapes over the named caches (all when `only` is absent). */
function hitRate(before: CacheCounts, after: CacheCounts, only?: readonly string[]): { percent: number; text: string } {
  let hits = 0;
  let misses = 0;
  for (const [cache, c] of after) {
    if (only && !only.includes(cache)) continue;
    hits += c.hit - (before.get(cache)?.hit ?? 0);
    misses += c.miss - (before.get(cache)?.miss ?? 0);
  }
  const percent = (100 * hits) / Math.max(1, hits + misses);
  return { percent, text: `${percent.toFixed(2)} % (${hits} hits, ${misses} misses)` };
}

interface Session {
  token: string;
  tenantId: string;
}

/** Sessions over HTTP (any Boka): one signup each (argon2 on the server), a shared tenant. */
async function sessionsOverHttp(base: string, count: number): Promise<Session[]> {
  const tag = randomBytes(4).toString('hex');
  const owner = await http(base, 'POST', '/api/auth/signup', undefined, { email: `bench-owner-${tag}@example.test`, password: PASSWORD, name: 'bench' });
  if (owner.status !== 201) throw new Error(`signup failed: ${owner.status} ${JSON.stringify(owner.json)}`);
  const ownerToken = owner.json.accessToken as string;
  const tenant = await http(base, 'POST', '/api/tenants', ownerToken, { name: `bench-${tag}`, slug: `bench-${tag}` });
  const tenantId = tenant.json.id as string;
  const sessions: Session[] = [{ token: ownerToken, tenantId }];
  for (let i = 1; i < count; i++) {
    const email = `bench-${tag}-${i}@example.test`;
    const s = await http(base, 'POST', '/api/auth/signup', undefined, { email, password: PASSWORD, name: 'bench' });
    await http(base, 'POST', `/api/tenants/${tenantId}/members`, ownerToken, { email, role: 'staff' });
    sessions.push({ token: s.json.accessToken as string, tenantId });
  }
  return sessions;
}

/** Sessions straight through the services (no argon2 per user): thousands in seconds. */
async function sessionsInProcess(databaseUrl: string, secret: string, count: number): Promise<Session[]> {
  const { loadConfig } = await import('../src/config/config.js');
  const { openDatabase, withTenant } = await import('../src/db/index.js');
  const { buildServices } = await import('../src/app.js');
  const { hashPassword } = await import('../src/auth/password.js');
  const { NO_META } = await import('../src/shared/events.js');
  const config = loadConfig({ ...process.env, DATABASE_URL: databaseUrl, BOKA_SECRET_KEY: secret, NODE_ENV: 'development', LOG_LEVEL: 'silent' });
  const db = await openDatabase(config);
  try {
    const services = await buildServices(config, { db });
    const hash = await hashPassword(PASSWORD);
    const tenants: string[] = [];
    const sessions: Session[] = [];
    for (let i = 0; i < count; i++) {
      const id = randomUUID();
      await db.query(
        `INSERT INTO users (id, email, email_normalized, name, password_hash) VALUES ($1, $2, $2, 'bench', $3)`,
        [id, `bench-${id}@example.test`, hash],
      );
      if (i % 50 === 0) tenants.push((await services.tenancy.createTenant({ userId: id, meta: NO_META }, { name: `bench-${i}`, slug: `bench-${id}` })).id);
      const tenantId = tenants[tenants.length - 1]!;
      if (i % 50 !== 0) {
        await withTenant(db, tenantId, (tx) => tx.query(`INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, 'staff')`, [tenantId, id]));
      }
      const issued = await services.sessions.create(id, { requestId: null, ip: '127.0.0.1', userAgent: 'bench' });
      sessions.push({ token: issued.accessToken, tenantId });
    }
    return sessions;
  } finally {
    await db.close();
  }
}

const ROUTES = {
  me: () => '/api/auth/me',
  tenant: (s: Session) => `/api/tenants/${s.tenantId}`,
  reservations: (s: Session) => `/api/tenants/${s.tenantId}/reservations`,
} satisfies Record<string, (s: Session) => string>;
const selectedRoutes = args.routes.split(',').map((r) => r.trim());
for (const r of selectedRoutes) if (!(r in ROUTES)) throw new Error(`--routes: unknown route ${r} (known: ${Object.keys(ROUTES).join(', ')})`);

function mixFor(sessions: Session[], hasReservations: boolean) {
  const routes = selectedRoutes.filter((r) => r !== 'reservations' || hasReservations) as Array<keyof typeof ROUTES>;
  let next = 0;
  return (client: AutocannonClient) => {
    const s = sessions[next++ % sessions.length]!;
    const headers = { authorization: `Bearer ${s.token}` };
    client.setRequests(routes.map((r) => ({ method: 'GET', path: ROUTES[r](s), headers })));
  };
}

/** The same mix for the open loop: routes interleaved request by request, sessions in turn. */
function openMix(sessions: Session[], hasReservations: boolean) {
  const routes = selectedRoutes.filter((r) => r !== 'reservations' || hasReservations) as Array<keyof typeof ROUTES>;
  return (i: number) => {
    const s = sessions[Math.floor(i / routes.length) % sessions.length]!;
    const route = routes[i % routes.length]!;
    return { path: ROUTES[route](s), headers: { authorization: `Bearer ${s.token}` }, route };
  };
}

/**
 * Revoke on A, poll B until it rejects: the cross-instance invalidation delay as a client sees
 * it (the bus delay plus B's response time under load). Stops early when `until` settles, so
 * every sample is taken under the load.
 */
interface RevocationDelays {
  /** Logout sent → rejected on the loaded instance (what the goal judges). */
  total: number[];
  /** Of which: the logout's own answer (the revoking instance's write and publish). */
  logout: number[];
  /** Samples whose first request after the logout's answer was already rejected. */
  firstPoll: number;
}

async function measureRevocation(a: string, b: string, sessions: readonly Session[], until: Promise<unknown>): Promise<RevocationDelays> {
  let loadOver = false;
  void until.finally(() => (loadOver = true));
  const delays: RevocationDelays = { total: [], logout: [], firstPoll: 0 };
  for (const s of sessions) {
    if (loadOver) break;
    for (let k = 0; k < 2; k++) await http(b, 'GET', '/api/auth/me', s.token);
    const start = performance.now();
    await http(a, 'POST', '/api/auth/logout', s.token);
    const loggedOut = performance.now();
    let polls = 1;
    while ((await http(b, 'GET', '/api/auth/me', s.token)).status !== 401) {
      if (performance.now() - start > 5_000) throw new Error('revocation never reached B');
      polls += 1;
    }
    if (!loadOver) {
      delays.total.push(performance.now() - start);
      delays.logout.push(loggedOut - start);
      if (polls === 1) delays.firstPoll += 1;
    }
  }
  delays.total.sort((x, y) => x - y);
  delays.logout.sort((x, y) => x - y);
  return delays;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

function reportOpen(label: string, r: OpenLoopResult): void {
  const ms = (v: number) => v.toFixed(1);
  console.log(
    `${label.padEnd(26)} rps ${r.throughput.toFixed(0).padStart(7)}  p50 ${ms(r.latencyMs.p50)} ms  p90 ${ms(r.latencyMs.p90)} ms  p95 ${ms(r.latencyMs.p95)} ms  ` +
      `p99 ${ms(r.latencyMs.p99)} ms  max ${ms(r.latencyMs.max)} ms  errors ${r.errors}  non-2xx ${r.non2xx}  sent ${r.sent}`,
  );
  if (r.non2xx > 0) console.log(`  non-2xx by status: ${JSON.stringify(r.non2xxByStatus)}`);
  const routes = Object.entries(r.byRoute).map(([route, x]) => `${route} ${ms(x.p99)} / ${ms(x.max)} ms`);
  if (routes.length > 0) console.log(`  p99 / max by route: ${routes.join(', ')}`);
}

function report(label: string, r: AutocannonResult): void {
  console.log(
    `${label.padEnd(26)} rps ${r.requests.average.toFixed(0).padStart(7)}  p50 ${r.latency.p50} ms  p90 ${r.latency.p90} ms  p97.5 ${r.latency.p97_5} ms  ` +
      `p99 ${r.latency.p99} ms  max ${r.latency.max} ms  errors ${r.errors}  timeouts ${r.timeouts}  non-2xx ${r.non2xx}  total ${r.requests.total}`,
  );
}

/** Issue 16's load goals, judged on figures from this run only. */
const GOALS = { mixP99VsEmpty: 3, openP99Ms: 100, revokeP99Ms: 100, hitRatePercent: 99 } as const;
const verdict = (ok: boolean | null) => (ok === null ? 'n/a' : ok ? 'met' : '**not met**');

/** What can explain a latency tail during a phase (the server's figures come from /metrics). */
interface Stalls { serverLoopP99Ms: number; serverLoopMaxMs: number; gcMs: number; gcCount: number; gcLong: number; ownLoopP99Ms: number; ownLoopMaxMs: number; runQueueMs: number; phaseMs: number }

/**
 * Time the server's main thread spent runnable but waiting for a CPU (Linux schedstat, ns): the
 * part of the event loop's delay that comes from sharing the machine with the database and the
 * load generator, not from the server's own code. NaN where /proc is not readable (another OS,
 * a remote --url).
 */
function runQueueWaitMs(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[1]) / 1e6;
  } catch {
    return NaN;
  }
}
interface PhaseOutcome<R> { result: R; delays: number[]; hitRate: number | null }
const NO_DELAYS: RevocationDelays = { total: [], logout: [], firstPoll: 0 };
/** Every measured phase's window, to place the servers' slow seconds (bench/server-timeline.ts). */
const phaseWindows: PhaseWindow[] = [];

/** The database's own background work: checkpoints (instance-wide) and autovacuum/autoanalyze runs (this database). */
async function databaseWork(db: pg.Client): Promise<{ checkpoints: number; buffers: number; autovacuums: number; sessionWrites: number }> {
  const bg = await db.query<{ c: string; b: string }>('SELECT checkpoints_timed + checkpoints_req AS c, buffers_checkpoint AS b FROM pg_stat_bgwriter');
  const av = await db.query<{ v: string }>('SELECT coalesce(sum(autovacuum_count + autoanalyze_count), 0) AS v FROM pg_stat_all_tables');
  // Session rows updated: last-seen writes (at most one per session per minute), revocations.
  const sw = await db.query<{ u: string }>("SELECT coalesce(sum(n_tup_upd), 0) AS u FROM pg_stat_all_tables WHERE relname = 'sessions'");
  return { checkpoints: Number(bg.rows[0]!.c), buffers: Number(bg.rows[0]!.b), autovacuums: Number(av.rows[0]!.v), sessionWrites: Number(sw.rows[0]!.u) };
}

/**
 * The measured phases against `base`: closed loop (saturation), then `--open-runs` consecutive
 * open-loop runs at `--rate`. With `revokeOn` (another instance sharing the bus), revocation
 * delays are sampled in each. Prints the goals of issue 16 with met / not met at the end.
 */
async function runPhases(
  base: string,
  sessions: Session[],
  hasReservations: boolean,
  revokeOn: string | null,
  empty: AutocannonResult | null,
  local?: { pid: number; db: pg.Client; waits: PgWaits },
): Promise<void> {
  const serverPid = local?.pid;
  const phase = async <R>(label: string, run: () => Promise<R>, print: (label: string, r: R) => void): Promise<PhaseOutcome<R>> => {
    // The sessions to revoke are signed up (argon2) before the phase, not during it.
    const toRevoke: Session[] = [];
    if (revokeOn) for (let i = 0; i < Number(args['revoke-samples']); i++) toRevoke.push(...(await sessionsOverHttp(revokeOn, 1)));
    const before = await scrape(base);
    // The load generator's own stalls count as latency in the open loop: measure them too.
    const ownLoop = monitorEventLoopDelay({ resolution: 10 });
    ownLoop.enable();
    const waitedBefore = runQueueWaitMs(serverPid);
    const dbBefore = local ? await databaseWork(local.db) : null;
    const startedAt = performance.now();
    const window: PhaseWindow = { label, from: Date.now(), to: Date.now() };
    phaseWindows.push(window);
    const load = run();
    const delays = revokeOn
      ? await measureRevocation(revokeOn, base, toRevoke, load).catch(async (err: unknown) => {
          await load;
          throw err;
        })
      : NO_DELAYS;
    const result = await load;
    window.to = Date.now();
    const runQueueMs = runQueueWaitMs(serverPid) - waitedBefore;
    const dbAfter = local ? await databaseWork(local.db) : null;
    const phaseMs = performance.now() - startedAt;
    ownLoop.disable();
    const after = await scrape(base);
    print(label, result);
    let rate: number | null = null;
    const stalls: Stalls = { ownLoopMaxMs: ownLoop.max / 1e6, ownLoopP99Ms: ownLoop.percentile(99) / 1e6, serverLoopMaxMs: NaN, serverLoopP99Ms: NaN, gcMs: NaN, gcCount: NaN, gcLong: NaN, runQueueMs, phaseMs };
    if (before && after) {
      const auth = hitRate(before.caches, after.caches, ['session', 'membership', 'api_key']);
      rate = auth.percent;
      console.log(`  cache hit rate, session + membership + API key caches: ${auth.text}`);
      console.log(`  cache hit rate, all caches: ${hitRate(before.caches, after.caches).text}`);
      Object.assign(stalls, { serverLoopMaxMs: after.loopMaxMs, serverLoopP99Ms: after.loopP99Ms, gcMs: (after.gcSeconds - before.gcSeconds) * 1000, gcCount: after.gcCount - before.gcCount, gcLong: after.gcOver100ms - before.gcOver100ms });
    } else console.log('  cache hit rate: /metrics not reachable on this URL');
    console.log(
      `  stalls: server event-loop delay p99 ${stalls.serverLoopP99Ms.toFixed(1)} ms, max ${stalls.serverLoopMaxMs.toFixed(1)} ms; ` +
        `server GC ${stalls.gcMs.toFixed(0)} ms in ${stalls.gcCount} collections (${stalls.gcLong} over 100 ms); server main thread waiting for a CPU ${stalls.runQueueMs.toFixed(0)} ms ` +
        `(${((100 * stalls.runQueueMs) / stalls.phaseMs).toFixed(1)} % of the phase); load generator's own loop delay p99 ${stalls.ownLoopP99Ms.toFixed(1)} ms, max ${stalls.ownLoopMaxMs.toFixed(1)} ms`,
    );
    if (before && after) {
      console.log(
        `  database statements timed by the server: ${after.dbStatements - before.dbStatements}, ` +
          `${after.dbOver100ms - before.dbOver100ms} over 100 ms, ${after.dbOver1s - before.dbOver1s} over 1 s`,
      );
    }
    if (dbBefore && dbAfter) {
      console.log(
        `  database: ${dbAfter.checkpoints - dbBefore.checkpoints} checkpoints (${dbAfter.buffers - dbBefore.buffers} buffers written), ` +
          `${dbAfter.autovacuums - dbBefore.autovacuums} autovacuum/autoanalyze runs, ${dbAfter.sessionWrites - dbBefore.sessionWrites} session row updates during the phase`,
      );
      console.log(`  PostgreSQL, sampled every 100 ms: ${local!.waits.summary(window.from, window.to)}`);
    }
    if (delays.total.length > 0) {
      const { total, logout } = delays;
      console.log(
        `  revoke on B → rejected on A: p50 ${pct(total, 50).toFixed(1)} ms, p99 ${pct(total, 99).toFixed(1)} ms (${total.length} samples); ` +
          `of which the logout's answer on B: p50 ${pct(logout, 50).toFixed(1)} ms, p99 ${pct(logout, 99).toFixed(1)} ms; ` +
          `rejected by the first request after it in ${delays.firstPoll} of ${total.length}`,
      );
    }
    return { result, delays: delays.total, hitRate: rate };
  };
  const saturated = await phase('boka, closed loop', () => runLoad(base, mixFor(sessions, hasReservations)), report);
  const rate = offeredRate(args.rate, saturated.result.requests.average);
  const open: Array<PhaseOutcome<OpenLoopResult>> = [];
  const runs = Math.max(1, Math.min(Number(args['open-runs']), 20));
  for (let i = 1; i <= runs; i++) {
    open.push(await phase(
      `boka, open loop ${rate}/s (${i}/${runs})`,
      () => runOpenLoop({ origin: base, connections, rate, durationSeconds: duration, request: openMix(sessions, hasReservations) }),
      reportOpen,
    ));
  }

  const closed = saturated.result;
  const closedClean = closed.errors + closed.timeouts + closed.non2xx === 0;
  const p99Ratio = empty ? closed.latency.p99 / Math.max(1, empty.latency.p99) : null;
  const openOk = open.map((o) => o.result.errors === 0 && o.result.non2xx === 0 && o.result.latencyMs.p99 <= GOALS.openP99Ms);
  const delays = open.flatMap((o) => o.delays).sort((x, y) => x - y);
  const hitRates = open.map((o) => o.hitRate).filter((h): h is number => h !== null);
  const minHit = hitRates.length > 0 ? Math.min(...hitRates) : null;
  console.log('');
  console.log(`| goal (issue 16, this run, ${connections} connections) | figure | verdict |`);
  console.log('| --- | --- | --- |');
  console.log(`| closed-loop mix: 0 errors, 0 non-2xx | ${closed.errors} errors, ${closed.timeouts} timeouts, ${closed.non2xx} non-2xx | ${verdict(closedClean)} |`);
  console.log(`| closed-loop mix p99 ≤ ${GOALS.mixP99VsEmpty}× the empty route's p99 | ${closed.latency.p99} ms vs ${empty ? `${empty.latency.p99} ms (${p99Ratio!.toFixed(2)}×)` : 'no baseline'} | ${verdict(p99Ratio === null ? null : p99Ratio <= GOALS.mixP99VsEmpty)} |`);
  console.log(`| open loop at ${args.rate} of saturation (${rate}/s): p99 ≤ ${GOALS.openP99Ms} ms, 0 non-2xx, on each of ${runs} runs | p99 ${open.map((o) => o.result.latencyMs.p99.toFixed(0)).join(', ')} ms; non-2xx ${open.map((o) => o.result.non2xx).join(', ')} | ${verdict(openOk.every(Boolean))} |`);
  console.log(`| revocation A → B under the open loop: p99 ≤ ${GOALS.revokeP99Ms} ms | ${delays.length > 0 ? `p99 ${pct(delays, 99).toFixed(1)} ms (${delays.length} samples)` : 'not measured (needs REDIS_URL)'} | ${verdict(delays.length > 0 ? pct(delays, 99) <= GOALS.revokeP99Ms : null)} |`);
  console.log(`| auth cache hit rate under the open loop ≥ ${GOALS.hitRatePercent} % | ${minHit === null ? 'not measured' : `lowest run ${minHit.toFixed(2)} %`} | ${verdict(minHit === null ? null : minHit >= GOALS.hitRatePercent)} |`);
}

async function main(): Promise<void> {
  console.log(`connections ${connections}, ${duration} s per phase, ${new Date().toISOString()}`);
  if (args.url) {
    const target = new URL(args.url);
    if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(target.hostname) && !args['allow-remote']) {
      throw new Error('refusing to load a non-loopback target without --allow-remote');
    }
    const base = target.origin;
    const sessions = await sessionsOverHttp(base, Number(args.sessions || 50));
    const hasReservations = (await http(base, 'GET', `/api/tenants/${sessions[0]!.tenantId}/reservations`, sessions[0]!.token)).status === 200;
    await runPhases(base, sessions, hasReservations, null, null);
    return;
  }

  const server = process.env.DATABASE_URL;
  if (!server) throw new Error('set DATABASE_URL to a PostgreSQL server (a scratch database is created and dropped)');
  const name = `boka_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  const secret = randomBytes(32).toString('base64url');
  let waits: PgWaits | undefined;
  try {
    const env = {
      DATABASE_URL: url.toString(),
      BOKA_SECRET_KEY: secret,
      BOKA_VERSION: 'bench',
      DATABASE_POOL_MAX: args.pool,
      ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL, CACHE_BUS_CHANNEL: `bench:${name}` } : {}),
    };
    const empty = await startProcess(['bench/empty-server.ts'], {});
    const a = await startProcess(['src/main.ts'], { ...env, LOG_LEVEL: 'info' });
    // (LOG_LEVEL=info only so the "listening at" line can be read; request lines go to a file.)
    const sessions = await sessionsInProcess(url.toString(), secret, Number(args.sessions || Math.min(connections, 1000)));
    const hasReservations = (await http(a.url, 'GET', `/api/tenants/${sessions[0]!.tenantId}/reservations`, sessions[0]!.token)).status === 200;
    console.log(`${sessions.length} distinct sessions; routes: ${selectedRoutes.filter((r) => r !== 'reservations' || hasReservations).join(', ')}`);

    const emptyResult = args['skip-baseline'] ? null : await runLoad(empty.url);
    if (emptyResult) report('empty fastify route', emptyResult);
    // Steady state: every session has been seen once (a real client's first request is a miss).
    for (let i = 0; i < sessions.length; i += 50) {
      await Promise.all(
        sessions.slice(i, i + 50).flatMap((s) => [http(a.url, 'GET', '/api/auth/me', s.token), http(a.url, 'GET', `/api/tenants/${s.tenantId}`, s.token)]),
      );
    }
    // Revocations are issued on B (when a bus connects the instances) and observed on A.
    const b = process.env.REDIS_URL ? await startProcess(['src/main.ts'], { ...env, LOG_LEVEL: 'info' }) : null;
    const stats = new pg.Client({ connectionString: url.toString() });
    await stats.connect();
    waits = samplePgWaits(url.toString(), name);
    await waits.start();
    try {
      await runPhases(a.url, sessions, hasReservations, b?.url ?? null, emptyResult, { pid: a.child.pid!, db: stats, waits });
    } finally {
      await waits.stop();
      await stats.end();
    }
  } finally {
    // SIGTERM: the servers drain and exit (writing their CPU profiles); SIGKILL after 10 s.
    await Promise.all(children.map((c) => stopChild(c)));
    for (const file of readdirSync(logDir)) {
      printWarnings(join(logDir, file));
      if (file.includes('src_main')) printSlowSeconds(join(logDir, file), phaseWindows, waits && ((at) => waits!.summary(at, at + 1000, 3)));
    }
    console.log(`server logs: ${logDir}`);
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
