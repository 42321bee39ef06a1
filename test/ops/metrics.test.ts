import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { createOps } from '../../src/ops/index.js';
import { startMetricsServer } from '../../src/ops/metrics.routes.js';
import { addMember, bearer, createTenant, createTestApp, signUp, TEST_PASSWORD, type TestContext } from '../helpers/app.js';
import { parseMetrics, sumOf, type Sample } from './helpers/metrics-text.js';

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
const PROMTOOL_MISSING = promtool.error
  ? 'promtool is not installed (Debian package "prometheus"; .ci/run installs it)'
  : false;

/** Prometheus metrics on the real app: names, labels, the version label, and promtool's lint. */
describe('metrics', () => {
  let ctx: TestContext;
  const extraApps: FastifyInstance[] = [];
  const logLines: string[] = [];

  async function appWith(env: Record<string, string>, logStream?: NodeJS.WritableStream): Promise<FastifyInstance> {
    const config = loadConfig(
      { NODE_ENV: 'test', BOKA_DATA_DIR: 'memory', BOKA_SECRET_KEY: ctx.config.secretKey!, ...env },
      { databaseUrl: ctx.database.url },
    );
    const app = await buildApp(config, { db: ctx.database.db, ops: createOps(config), ...(logStream ? { logStream } : {}) });
    await app.ready();
    extraApps.push(app);
    return app;
  }

  async function scrape(app: FastifyInstance = ctx.app): Promise<{ text: string; samples: Sample[] }> {
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    return { text: res.body, samples: parseMetrics(res.body) };
  }

  before(async () => {
    ctx = await createTestApp({ env: { BOKA_VERSION: '2.3.4-blue' } });
  });
  after(async () => {
    for (const app of extraApps) await app.close();
    await ctx.close();
  });

  it('counts HTTP requests by route pattern, never the raw URL, and every series carries the version', async () => {
    const owner = await signUp(ctx.app, 'owner');
    const tenant = await createTenant(ctx.app, owner);
    for (let i = 0; i < 3; i++) {
      const res = await ctx.app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}`, headers: bearer(owner.accessToken) });
      assert.equal(res.statusCode, 200);
    }
    await ctx.app.inject({ method: 'GET', url: '/no/such/path/12345' });
    const { text, samples } = await scrape();
    assert.equal(
      sumOf(samples, 'boka_http_requests_total', { method: 'GET', route: '/api/tenants/:tenantId', status_code: '200' }),
      3,
    );
    assert.equal(sumOf(samples, 'boka_http_request_duration_seconds_count', { route: '/api/tenants/:tenantId' }), 3);
    assert.equal(sumOf(samples, 'boka_http_requests_total', { route: 'unmatched', status_code: '404' }), 1);
    assert.ok(!text.includes(tenant.id), 'a raw URL (tenant id) leaked into a label');
    assert.ok(!text.includes('12345'), 'an unmatched raw URL leaked into a label');
    for (const s of samples) assert.equal(s.labels.version, '2.3.4-blue', `${s.name} lacks the version label`);
    // Runtime defaults are there too.
    for (const name of ['nodejs_eventloop_lag_seconds', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes']) {
      assert.ok(samples.some((s) => s.name === name), `missing ${name}`);
    }
  });

  it('counts logins, sessions, auth failures and access denials from domain events', async () => {
    const before = (await scrape()).samples;
    const user = await signUp(ctx.app, 'counted');
    const stranger = await signUp(ctx.app, 'stranger');
    const tenant = await createTenant(ctx.app, user);
    const guest = await signUp(ctx.app, 'guest');
    await addMember(ctx.app, user, tenant.id, guest, 'guest');
    const login = await ctx.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: TEST_PASSWORD } });
    assert.equal(login.statusCode, 200);
    const bad = await ctx.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: 'wrong password!!' } });
    assert.equal(bad.statusCode, 401);
    assert.equal((await ctx.app.inject({ method: 'GET', url: '/api/auth/me' })).statusCode, 401);
    assert.equal((await ctx.app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer('not.a.jwt') })).statusCode, 401);
    const foreign = await ctx.app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}`, headers: bearer(stranger.accessToken) });
    assert.equal(foreign.statusCode, 403);
    const weak = await ctx.app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}/members`, headers: bearer(guest.accessToken) });
    assert.equal(weak.statusCode, 403);
    const logout = await ctx.app.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(stranger.accessToken) });
    assert.equal(logout.statusCode, 204);

    const now = (await scrape()).samples;
    const delta = (name: string, labels: Record<string, string> = {}) => sumOf(now, name, labels) - sumOf(before, name, labels);
    assert.equal(delta('boka_auth_logins_total', { result: 'success' }), 1);
    assert.equal(delta('boka_auth_logins_total', { result: 'failure' }), 1);
    assert.equal(delta('boka_auth_failures_total', { reason: 'invalid_credentials' }), 1);
    assert.equal(delta('boka_auth_failures_total', { reason: 'missing' }), 1);
    assert.equal(delta('boka_auth_failures_total', { reason: 'invalid' }), 1);
    assert.equal(delta('boka_sessions_created_total', { result: 'ok' }), 4); // 3 signups + 1 login
    assert.equal(delta('boka_access_denied_total', { reason: 'tenant_mismatch' }), 1);
    assert.equal(delta('boka_access_denied_total', { reason: 'insufficient_permissions' }), 1);
    assert.equal(delta('boka_sessions_revoked_total'), 1);
  });

  it('counts cache hits and misses and database statements and pool state', async () => {
    const before = (await scrape()).samples;
    const user = await signUp(ctx.app, 'cached');
    for (let i = 0; i < 5; i++) {
      assert.equal((await ctx.app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(user.accessToken) })).statusCode, 200);
    }
    const now = (await scrape()).samples;
    const delta = (name: string, labels: Record<string, string> = {}) => sumOf(now, name, labels) - sumOf(before, name, labels);
    // The first lookup misses (signup does not warm the cache), the next four hit.
    assert.equal(delta('boka_cache_requests_total', { cache: 'session', result: 'miss' }), 1);
    assert.equal(delta('boka_cache_requests_total', { cache: 'session', result: 'hit' }), 4);
    assert.ok(delta('boka_db_query_duration_seconds_count') > 0);
    assert.ok(now.some((s) => s.name === 'boka_db_pool_connections' && s.labels.state === 'total' && s.value >= 1));
    assert.ok(now.some((s) => s.name === 'boka_db_errors_total' && s.labels.kind === 'connection'));
  });

  it('counts database errors by kind', async () => {
    const before = (await scrape()).samples;
    const email = `dup-${Date.now()}@example.test`;
    const first = await ctx.app.inject({ method: 'POST', url: '/api/auth/signup', payload: { email, password: TEST_PASSWORD, name: 'a' } });
    assert.equal(first.statusCode, 201);
    const dup = await ctx.app.inject({ method: 'POST', url: '/api/auth/signup', payload: { email, password: TEST_PASSWORD, name: 'a' } });
    assert.equal(dup.statusCode, 409);
    const now = (await scrape()).samples;
    assert.equal(sumOf(now, 'boka_db_errors_total', { kind: 'constraint' }) - sumOf(before, 'boka_db_errors_total', { kind: 'constraint' }), 1);
  });

  it('the exposition passes `promtool check metrics`', { skip: PROMTOOL_MISSING }, async () => {
    const { text } = await scrape();
    const res = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(res.status, 0, `promtool: ${res.stdout}${res.stderr}`);
    assert.equal(res.stdout.trim() + res.stderr.trim(), '', 'promtool reported lint problems');
  });

  it('METRICS_TOKEN protects /metrics', async () => {
    const app = await appWith({ METRICS_TOKEN: 'scrape-secret-123' });
    assert.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 403);
    assert.equal((await app.inject({ method: 'GET', url: '/metrics', headers: bearer('wrong') })).statusCode, 403);
    const ok = await app.inject({ method: 'GET', url: '/metrics', headers: bearer('scrape-secret-123') });
    assert.equal(ok.statusCode, 200);
    assert.match(ok.body, /boka_http_requests_total/);
  });

  it('METRICS_PORT moves the exposition to its own listener', async () => {
    const config = loadConfig(
      { NODE_ENV: 'test', BOKA_DATA_DIR: 'memory', BOKA_SECRET_KEY: ctx.config.secretKey!, METRICS_PORT: '0', BOKA_VERSION: 'side' },
      { databaseUrl: ctx.database.url },
    );
    const ops = createOps(config);
    const app = await buildApp(config, { db: ctx.database.db, ops });
    extraApps.push(app);
    assert.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 404);
    const server = await startMetricsServer(ops.metrics, { host: '127.0.0.1', port: 0, token: undefined });
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /boka_http_requests_total|version="side"/);
      assert.equal((await fetch(`http://127.0.0.1:${server.port}/other`)).status, 404);
    } finally {
      await server.close();
    }
  });

  it('writes one JSON log line per request with route, principal, tenant and version, and no secrets', async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        cb();
      },
    });
    const app = await appWith({ LOG_LEVEL: 'info', BOKA_VERSION: 'log-test' }, sink);
    const email = `logged-${Date.now()}@example.test`;
    const signup = await app.inject({ method: 'POST', url: '/api/auth/signup', payload: { email, password: TEST_PASSWORD, name: 'Logged' } });
    assert.equal(signup.statusCode, 201);
    const { accessToken, refreshToken, user } = signup.json<{ accessToken: string; refreshToken: string; user: { id: string } }>();
    const tenant = await createTenant(app, { id: user.id, email, accessToken, refreshToken, sessionId: '' });
    const res = await app.inject({
      method: 'GET',
      url: `/api/tenants/${tenant.id}`,
      headers: { ...bearer(accessToken), cookie: 'session=cookie-secret-value', 'x-request-id': 'req-log-1' },
    });
    assert.equal(res.statusCode, 200);
    await app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken } });
    // pino's redaction config itself: a secret-bearing object logged by any code path.
    app.log.info({ headers: { authorization: `Bearer ${accessToken}`, cookie: 'c=cookie-secret-value' }, password: TEST_PASSWORD }, 'probe');

    const all = logLines.join('\n');
    for (const secret of [accessToken, refreshToken, TEST_PASSWORD, 'cookie-secret-value', refreshToken.split('.')[1]!]) {
      assert.ok(!all.includes(secret), `a secret reached the log: ${secret.slice(0, 12)}…`);
    }
    const lines = logLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const line = lines.find((l) => l.requestId === 'req-log-1');
    assert.ok(line, 'no log line for the request');
    assert.equal(line.msg, 'request');
    assert.equal(line.method, 'GET');
    assert.equal(line.route, '/api/tenants/:tenantId');
    assert.equal(line.status, 200);
    assert.equal(typeof line.durationMs, 'number');
    assert.equal(line.principal, `user:${user.id}`);
    assert.equal(line.tenantId, tenant.id);
    assert.equal(line.version, 'log-test');
    assert.equal(lines.filter((l) => l.requestId === 'req-log-1').length, 1, 'exactly one line per request');
    const probe = lines.find((l) => l.msg === 'probe') as { headers: Record<string, string>; password: string };
    assert.equal(probe.headers.authorization, '[redacted]');
    assert.equal(probe.headers.cookie, '[redacted]');
    assert.equal(probe.password, '[redacted]');
  });
});
