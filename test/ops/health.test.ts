import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { PROBE } from '../../src/ops/probe.repo.js';
import { createOps } from '../../src/ops/index.js';
import { bearer, createTenant, createTestApp, errorBody, signUp, type TestContext } from '../helpers/app.js';
import { parseMetrics, sumOf } from './helpers/metrics-text.js';

/**
 * Liveness, readiness and the deep post-deployment check, on the real app and database.
 * Extra apps with other settings share the test database (no second migration).
 */
describe('health endpoints', () => {
  let ctx: TestContext;
  const extraApps: FastifyInstance[] = [];

  async function appWith(env: Record<string, string>, ops = createOps({ version: 'test-extra' })): Promise<FastifyInstance> {
    const config = loadConfig(
      { NODE_ENV: 'test', BOKA_DATA_DIR: 'memory', BOKA_SECRET_KEY: ctx.config.secretKey!, ...env },
      { databaseUrl: ctx.database.url },
    );
    const app = await buildApp(config, { db: ctx.database.db, ops });
    await app.ready();
    extraApps.push(app);
    return app;
  }

  before(async () => {
    ctx = await createTestApp({ env: { BOKA_VERSION: '9.9.9-test' } });
  });
  after(async () => {
    // Extra apps share the database handle; closing them only closes their bus.
    for (const app of extraApps) await app.close();
    await ctx.close();
  });

  it('liveness answers with the version and no I/O', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/api/health' });
    assert.equal(res.statusCode, 200);
    const body = res.json<{ status: string; version: string; uptime: number }>();
    assert.equal(body.status, 'ok');
    assert.equal(body.version, '9.9.9-test');
    assert.equal(typeof body.uptime, 'number');
  });

  it('readiness is ok when the database answers and migrations are current', async () => {
    for (let i = 0; i < 2; i++) {
      // twice: the first call reads the migration files, the second only the database
      const res = await ctx.app.inject({ method: 'GET', url: '/api/health/ready' });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { status: 'ok', version: '9.9.9-test' });
    }
  });

  it('readiness reports migrations_pending when the schema is behind the build', async () => {
    // Hide the newest migration row as the owner role, ask, then put it back.
    const asOwner = async <T>(fn: (q: (sql: string, params?: unknown[]) => Promise<{ rows: Record<string, unknown>[] }>) => Promise<T>) => {
      if (ctx.database.url) {
        const client = new pg.Client({ connectionString: ctx.database.url });
        await client.connect();
        try {
          return await fn((sql, params) => client.query(sql, params));
        } finally {
          await client.end();
        }
      }
      await ctx.database.db.query('RESET ROLE');
      try {
        return await fn((sql, params) => ctx.database.db.query(sql, params));
      } finally {
        await ctx.database.db.query('SET ROLE boka_app');
      }
    };
    const newest = await asOwner(async (q) => {
      const row = (await q('SELECT * FROM boka_schema_version ORDER BY version DESC LIMIT 1')).rows[0]!;
      await q('DELETE FROM boka_schema_version WHERE version = $1', [row.version]);
      return row;
    });
    try {
      const app = await appWith({});
      const res = await app.inject({ method: 'GET', url: '/api/health/ready' });
      assert.equal(res.statusCode, 503);
      assert.deepEqual(res.json<{ reasons: string[] }>().reasons, ['migrations_pending']);
    } finally {
      await asOwner(async (q) => {
        const cols = Object.keys(newest);
        await q(
          `INSERT INTO boka_schema_version (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`,
          cols.map((c) => newest[c]),
        );
      });
    }
    assert.equal((await ctx.app.inject({ method: 'GET', url: '/api/health/ready' })).statusCode, 200);
  });

  it('readiness turns 503 "draining" at once and responses ask clients to close keep-alive', async () => {
    const ops = createOps({ version: 'drain-test' });
    const app = await appWith({ BOKA_VERSION: 'drain-test' }, ops);
    assert.equal((await app.inject({ method: 'GET', url: '/api/health/ready' })).statusCode, 200);
    ops.drain.start();
    const res = await app.inject({ method: 'GET', url: '/api/health/ready' });
    assert.equal(res.statusCode, 503);
    assert.deepEqual(res.json(), { status: 'unavailable', version: 'drain-test', reasons: ['draining'] });
    assert.equal(res.headers.connection, 'close');
    // Liveness still answers: the process is fine, it just must not receive new traffic.
    assert.equal((await app.inject({ method: 'GET', url: '/api/health' })).statusCode, 200);
  });

  it('deep check passes every functional check as the synthetic probe', async () => {
    const before = parseMetrics(await (await ctx.app.inject({ method: 'GET', url: '/metrics' })).body);
    const res = await ctx.app.inject({ method: 'GET', url: '/api/health/deep' });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json<{ status: string; version: string; checks: Record<string, { status: string; durationMs: number; error?: string }> }>();
    assert.equal(body.version, '9.9.9-test');
    const names = [
      'database', 'sessionCreation', 'sessionValidation', 'authentication', 'roleValidation', 'permissionChecking',
      'tenantIsolation', 'jwtValidation', 'sessionRevocation', 'responseTime', 'cacheBus',
    ];
    assert.deepEqual(Object.keys(body.checks).sort(), [...names].sort());
    for (const name of names) {
      if (name === 'responseTime') continue; // a timing: may legitimately fail on a loaded machine
      assert.equal(body.checks[name]?.status, 'pass', `${name}: ${body.checks[name]?.error}`);
    }
    assert.ok(['ok', 'degraded'].includes(body.status));
    assert.equal(body.status === 'ok', body.checks.responseTime?.status === 'pass');

    // Probe activity never counts in business metrics.
    const afterSamples = parseMetrics(await (await ctx.app.inject({ method: 'GET', url: '/metrics' })).body);
    for (const name of ['boka_sessions_created_total', 'boka_sessions_revoked_total', 'boka_auth_logins_total']) {
      assert.equal(sumOf(afterSamples, name), sumOf(before, name), name);
    }
    // The probe's session was revoked and cleaned up; the probe rows exist and are synthetic.
    const sessions = await ctx.database.db.query<{ n: string }>('SELECT count(*) AS n FROM sessions WHERE user_id = $1', [PROBE.userId]);
    assert.equal(Number(sessions.rows[0]?.n), 0);
    const user = await ctx.database.db.query<{ synthetic: boolean }>('SELECT synthetic FROM users WHERE id = $1', [PROBE.userId]);
    assert.equal(user.rows[0]?.synthetic, true);
  });

  it('synthetic probe tenants never appear in user-facing lists', async () => {
    // Make the probe user a member of a real tenant too: member lists must still hide it.
    const owner = await signUp(ctx.app, 'owner');
    const tenant = await createTenant(ctx.app, owner);
    await ctx.database.db.transaction(async (tx) => {
      await tx.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenant.id]);
      await tx.query(`INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, 'staff')`, [tenant.id, PROBE.userId]);
    });
    const members = await ctx.app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}/members`, headers: bearer(owner.accessToken) });
    assert.equal(members.statusCode, 200);
    const ids = members.json<{ items: Array<{ userId: string }> }>().items.map((m) => m.userId);
    assert.deepEqual(ids, [owner.id]);
    // The probe tenants are not reachable by a real user.
    const probeTenant = await ctx.app.inject({ method: 'GET', url: `/api/tenants/${PROBE.tenantA}`, headers: bearer(owner.accessToken) });
    assert.equal(probeTenant.statusCode, 403);
  });

  it('deep check is loopback-only without HEALTH_TOKEN', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/api/health/deep', remoteAddress: '203.0.113.7' });
    assert.equal(res.statusCode, 403);
    assert.equal(errorBody(res).code, 'forbidden');
  });

  it('with HEALTH_TOKEN the deep check needs the token, from anywhere', async () => {
    const app = await appWith({ HEALTH_TOKEN: 'probe-secret-0123456789' });
    const noToken = await app.inject({ method: 'GET', url: '/api/health/deep' });
    assert.equal(noToken.statusCode, 403);
    const wrong = await app.inject({ method: 'GET', url: '/api/health/deep', headers: { 'x-health-token': 'nope' } });
    assert.equal(wrong.statusCode, 403);
    const ok = await app.inject({
      method: 'GET',
      url: '/api/health/deep',
      remoteAddress: '203.0.113.7',
      headers: bearer('probe-secret-0123456789'),
    });
    assert.equal(ok.statusCode, 200, ok.body);
  });

  it('deep check is rate-limited per instance', async () => {
    const app = await appWith({ DEEP_HEALTH_PER_MINUTE: '2' });
    const codes: number[] = [];
    for (let i = 0; i < 3; i++) codes.push((await app.inject({ method: 'GET', url: '/api/health/deep' })).statusCode);
    assert.deepEqual(codes, [200, 200, 429]);
    const limited = await app.inject({ method: 'GET', url: '/api/health/deep' });
    assert.equal(errorBody(limited).code, 'quota_exceeded');
    assert.ok(Number(limited.headers['retry-after']) > 0);
  });

  it('overall status: soft checks degrade, functional checks make the instance unhealthy', async () => {
    const { summarizeChecks } = await import('../../src/ops/health.core.js');
    const pass = { status: 'pass' as const, durationMs: 1 };
    const fail = { status: 'fail' as const, durationMs: 1, error: 'x' };
    assert.equal(summarizeChecks({ database: pass, responseTime: pass }), 'ok');
    assert.equal(summarizeChecks({ database: pass, responseTime: fail }), 'degraded');
    assert.equal(summarizeChecks({ database: pass, cacheBus: fail }), 'degraded');
    assert.equal(summarizeChecks({ database: pass, tenantIsolation: fail, cacheBus: fail }), 'unhealthy');
  });
});
