import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { Agent, request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { TEST_PASSWORD } from '../helpers/app.js';
import { createTestDatabase, onServer, type TestDatabase } from '../helpers/database.js';
import { killAll, spawnBoka, type BokaProcess } from './helpers/processes.js';
import { createTcpProxy } from './helpers/tcp-proxy.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const SKIP = onServer ? false : 'needs DATABASE_URL: two real processes must share one PostgreSQL database';

async function redisReachable(): Promise<boolean> {
  const probe = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 1_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

interface Reply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** One HTTP request over a keep-alive agent; network errors carry `code` and `reusedSocket`. */
function send(agent: Agent, base: string, method: string, path: string, opts: { token?: string; body?: unknown } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = httpRequest(`${base}${path}`, {
      method,
      agent,
      headers: {
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
      },
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', (err: NodeJS.ErrnoException) => reject(Object.assign(err, { reusedSocket: req.reusedSocket })));
    req.end(payload);
  });
}

async function within(ms: number, what: string, probe: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  while (!(await probe())) {
    if (Date.now() - start > ms) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - start;
}

/**
 * Real processes (`node src/main.ts`) sharing PostgreSQL and Redis: cross-instance cache
 * invalidation and a drain under steady load.
 */
describe('multi-process operations', { skip: SKIP }, () => {
  let database: TestDatabase;
  let redisOk = false;
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const secret = randomBytes(32).toString('base64url');
  const channel = `boka-test:${randomUUID()}`;
  let a: BokaProcess;
  let b: BokaProcess;

  const env = (version: string, extra: Record<string, string> = {}) => ({
    DATABASE_URL: database.url!,
    BOKA_SECRET_KEY: secret,
    BOKA_VERSION: version,
    CACHE_BUS_CHANNEL: channel,
    SHUTDOWN_TIMEOUT_MS: '10000',
    // The drain test's workers send as fast as the machine allows: a faster machine (or a longer
    // drain) would meet the 1 000/min per-user limit, which is not what these tests are about.
    RATE_LIMIT_PER_PRINCIPAL_PER_MINUTE: '0',
    ...(redisOk ? { REDIS_URL } : {}),
    ...extra,
  });

  async function signup(target: BokaProcess, label: string) {
    const email = `${label}-${randomBytes(4).toString('hex')}@example.test`;
    const res = await send(agent, target.url, 'POST', '/api/auth/signup', { body: { email, password: TEST_PASSWORD, name: label } });
    assert.equal(res.status, 201, res.body);
    const body = JSON.parse(res.body) as { accessToken: string; user: { id: string } };
    return { email, token: body.accessToken, id: body.user.id };
  }

  before(async () => {
    if (SKIP) return;
    database = await createTestDatabase();
    redisOk = await redisReachable();
    // A drains like a production instance behind a load balancer: SHUTDOWN_DELAY_MS keeps it
    // serving (readiness 503, `Connection: close`) while the balancer stops sending to it. 3 s,
    // not less: the test's readiness probe must land inside that window on a loaded machine.
    [a, b] = await Promise.all([spawnBoka(env('A', { SHUTDOWN_DELAY_MS: '3000' })), spawnBoka(env('B'))]);
  });

  after(async () => {
    agent.destroy();
    await killAll();
    await database?.drop();
  });

  it('a session revoked on A is rejected on B at once, and a role change on A applies on B', async (t) => {
    if (!redisOk) return t.skip(`Redis is not reachable at ${REDIS_URL}`);
    const user = await signup(a, 'roamer');
    // B caches the live session (first request misses, then hits).
    for (let i = 0; i < 2; i++) assert.equal((await send(agent, b.url, 'GET', '/api/auth/me', { token: user.token })).status, 200);
    assert.equal((await send(agent, a.url, 'POST', '/api/auth/logout', { token: user.token })).status, 204);
    // Without the bus B would keep answering 200 from its cache for SESSION_CACHE_TTL_SECONDS (60 s).
    const revokeMs = await within(2_000, 'revocation reaching B', async () =>
      (await send(agent, b.url, 'GET', '/api/auth/me', { token: user.token })).status === 401,
    );
    t.diagnostic(`revoke on A → rejected on B after ${revokeMs} ms`);

    const owner = await signup(a, 'owner');
    const staff = await signup(a, 'staff');
    const slug = `t-${randomBytes(4).toString('hex')}`;
    const tenant = JSON.parse((await send(agent, a.url, 'POST', '/api/tenants', { token: owner.token, body: { name: slug, slug } })).body) as { id: string };
    const invite = await send(agent, a.url, 'POST', `/api/tenants/${tenant.id}/invitations`, { token: owner.token, body: { email: staff.email, role: 'staff' } });
    assert.equal(invite.status, 201, invite.body);
    const { token: invitation } = JSON.parse(invite.body) as { token: string };
    const add = await send(agent, a.url, 'POST', '/api/invitations/accept', { token: staff.token, body: { token: invitation } });
    assert.equal(add.status, 200, add.body);
    for (let i = 0; i < 2; i++) {
      assert.equal((await send(agent, b.url, 'GET', `/api/tenants/${tenant.id}/members`, { token: staff.token })).status, 200);
    }
    const demote = await send(agent, a.url, 'PATCH', `/api/tenants/${tenant.id}/members/${staff.id}`, { token: owner.token, body: { role: 'guest' } });
    assert.equal(demote.status, 200, demote.body);
    await within(2_000, 'role change reaching B', async () =>
      (await send(agent, b.url, 'GET', `/api/tenants/${tenant.id}/members`, { token: staff.token })).status === 403,
    );
  });

  it('an instance whose Redis link drops reports degraded, and recovers', async (t) => {
    if (!redisOk) return t.skip(`Redis is not reachable at ${REDIS_URL}`);
    const redis = new URL(REDIS_URL);
    const proxy = await createTcpProxy({ host: redis.hostname, port: Number(redis.port || 6379) });
    const c = await spawnBoka(env('C', { REDIS_URL: `redis://127.0.0.1:${proxy.port}` }));
    try {
      const deep = async () => JSON.parse((await send(agent, c.url, 'GET', '/api/health/deep')).body) as { status: string; checks: Record<string, { status: string }> };
      assert.equal((await deep()).checks.cacheBus?.status, 'pass');
      proxy.cut('refuse');
      await within(5_000, 'degraded report', async () => (await deep()).status === 'degraded');
      assert.equal((await send(agent, c.url, 'GET', '/api/health/ready')).status, 200, 'a bus outage must not take the instance out');
      proxy.restore();
      await within(5_000, 'recovery', async () => (await deep()).checks.cacheBus?.status === 'pass');
    } finally {
      c.kill('SIGKILL');
      await c.exited;
      await proxy.close();
    }
  });

  it('SIGTERM under steady load: in-flight requests finish, no request is lost, exit 0', async (t) => {
    const users = await Promise.all([0, 1, 2, 3].map((i) => signup(a, `steady${i}`)));
    let target = a;
    let stop = false;
    const stats = { ok: 0, servedByB: 0, refusedThenRetried: 0, resetOnReusedSocketRetried: 0, failures: [] as string[] };

    async function worker(token: string): Promise<void> {
      while (!stop) {
        const base = target;
        try {
          const res = await send(agent, base.url, 'GET', '/api/auth/me', { token });
          if (res.status === 200) {
            stats.ok += 1;
            if (base === b) stats.servedByB += 1;
          } else stats.failures.push(`${res.status} ${res.body.slice(0, 100)}`);
        } catch (err) {
          const e = err as NodeJS.ErrnoException & { reusedSocket?: boolean };
          // Both are safe to retry elsewhere: a refused connect sent nothing, and a reset on a
          // reused keep-alive socket before any response byte is the race Node's docs tell
          // clients to retry (the server closed it as idle).
          if (e.code === 'ECONNREFUSED') stats.refusedThenRetried += 1;
          else if (e.reusedSocket && (e.code === 'ECONNRESET' || e.message === 'socket hang up')) stats.resetOnReusedSocketRetried += 1;
          else stats.failures.push(`${e.code ?? ''} ${e.message}`);
          target = b;
        }
      }
    }

    // The load balancer: polls readiness and routes to B as soon as A answers anything but 200.
    async function balancer(): Promise<void> {
      while (!stop && target === a) {
        const ready = await send(agent, a.url, 'GET', '/api/health/ready').catch(() => null);
        if (ready?.status !== 200) target = b;
        await new Promise((r) => setTimeout(r, 50));
      }
    }

    const workers = [balancer(), ...users.flatMap((u) => [worker(u.token), worker(u.token)])];
    await within(5_000, 'steady traffic', async () => stats.ok >= 40);
    // Slow requests (argon2 password checks) in flight when the signal arrives.
    const inFlight = users.map((u) => send(agent, a.url, 'POST', '/api/auth/login', { body: { email: u.email, password: TEST_PASSWORD } }));
    await new Promise((r) => setTimeout(r, 15));
    a.kill('SIGTERM');
    // Readiness flips at once (the listener is still open during the delay).
    await within(2_000, 'readiness 503 on A', async () => {
      const res = await send(agent, a.url, 'GET', '/api/health/ready').catch(() => null);
      return res?.status === 503 && res.body.includes('draining') && res.headers.connection === 'close';
    });
    const logins = await Promise.allSettled(inFlight);
    const exitCode = await a.exited;
    await within(5_000, 'traffic on B', async () => stats.servedByB >= 20);
    stop = true;
    await Promise.all(workers);

    t.diagnostic(JSON.stringify({ ...stats, failures: stats.failures.length }));
    assert.deepEqual(
      logins.map((l) => (l.status === 'fulfilled' ? l.value.status : String(l.reason))),
      users.map(() => 200),
      'an in-flight request was cut',
    );
    assert.deepEqual(stats.failures, [], 'requests were lost');
    assert.equal(exitCode, 0, a.logs.slice(-5).join('\n'));
    assert.ok(a.logs.some((l) => l.includes('"draining"')) && a.logs.some((l) => l.includes('shutdown complete')));
  });
});
