import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { createPostgresDatabase } from '../../src/db/postgres.js';
import type { Database } from '../../src/db/index.js';
import { addMember, bearer, createTenant, errorBody, signUp, type SignedInUser } from '../helpers/app.js';
import { createTestDatabase, onServer, type TestDatabase } from '../helpers/database.js';
import { parseMetrics, sumOf } from './helpers/metrics-text.js';
import { createTcpProxy } from './helpers/tcp-proxy.js';

const SKIP = onServer
  ? false
  : 'needs DATABASE_URL: the outage is simulated with a TCP proxy in front of a PostgreSQL server (PGlite is in-process)';

/**
 * PostgreSQL taken away behind a proxy the test controls (never the machine's server itself):
 * requests that need it answer 503 database_error within a bound, cached sessions keep
 * authenticating, readiness and deep health say so, errors are counted, nothing is half-written,
 * and the instance recovers by itself.
 */
describe('database outage', { skip: SKIP }, () => {
  let database: TestDatabase;
  let proxy: Awaited<ReturnType<typeof createTcpProxy>>;
  let db: Database;
  let app: FastifyInstance;
  let owner: SignedInUser;
  let guest: SignedInUser;
  let tenantId: string;

  const dbErrors = async () =>
    sumOf(parseMetrics((await app.inject({ method: 'GET', url: '/metrics' })).body), 'boka_db_errors_total', {});

  before(async () => {
    if (SKIP) return;
    database = await createTestDatabase();
    const direct = new URL(database.url!);
    proxy = await createTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const proxied = new URL(database.url!);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    db = createPostgresDatabase({ url: proxied.toString(), max: 4, connectTimeoutMs: 500, statementTimeoutMs: 500 });
    const config = loadConfig(
      { NODE_ENV: 'test', BOKA_SECRET_KEY: randomBytes(32).toString('base64url') },
      { databaseUrl: proxied.toString() },
    );
    app = await buildApp(config, { db });
    await app.ready();
    owner = await signUp(app, 'owner');
    guest = await signUp(app, 'guest');
    tenantId = (await createTenant(app, owner)).id;
    await addMember(app, owner, tenantId, guest, 'guest');
    // Warm the session and membership caches the way real traffic would.
    assert.equal((await app.inject({ method: 'GET', url: `/api/tenants/${tenantId}`, headers: bearer(guest.accessToken) })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/api/health/ready' })).statusCode, 200);
  });

  after(async () => {
    if (SKIP) return;
    await app?.close();
    await db?.close();
    await proxy?.close();
    await database?.drop();
  });

  for (const how of ['refuse', 'blackhole'] as const) {
    it(`with the database ${how === 'refuse' ? 'refusing connections' : 'silent (partition)'}: 503 database_error, cached auth still works`, async () => {
      const errorsBefore = await dbErrors();
      proxy.cut(how);
      try {
        const me = await app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(owner.accessToken) });
        assert.equal(me.statusCode, 503, me.body);
        assert.equal(errorBody(me).code, 'database_error');
        assert.equal(me.headers['retry-after'], '5');

        // The pipeline needs no database for a cached session: authentication and authorization
        // still decide (here: a guest lacks members.read), only the handler's query would fail.
        const denied = await app.inject({ method: 'GET', url: `/api/tenants/${tenantId}/members`, headers: bearer(guest.accessToken) });
        assert.equal(denied.statusCode, 403);
        assert.equal(errorBody(denied).code, 'insufficient_permissions');
        const forged = await app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer('not.a.token') });
        assert.equal(forged.statusCode, 401);

        assert.equal((await app.inject({ method: 'GET', url: '/api/health' })).statusCode, 200);
        const ready = await app.inject({ method: 'GET', url: '/api/health/ready' });
        assert.equal(ready.statusCode, 503);
        assert.deepEqual(ready.json<{ reasons: string[] }>().reasons, ['database_unreachable']);

        // Nothing half-written: a tenant creation (tenant row + owner membership) fails whole.
        const slug = `outage-${how}`;
        const create = await app.inject({ method: 'POST', url: '/api/tenants', headers: bearer(owner.accessToken), payload: { name: slug, slug } });
        assert.equal(create.statusCode, 503, create.body);

        if (how === 'refuse') {
          const deep = await app.inject({ method: 'GET', url: '/api/health/deep' });
          assert.equal(deep.statusCode, 503, deep.body);
          const body = deep.json<{ status: string; checks: Record<string, { status: string }> }>();
          assert.equal(body.status, 'unhealthy');
          assert.equal(body.checks.database?.status, 'fail');
        }
        assert.ok((await dbErrors()) > errorsBefore, 'boka_db_errors_total did not count the outage');
      } finally {
        proxy.restore();
      }

      // Recovers by itself: readiness within 5 s of the database returning, then real requests.
      let ready = 0;
      const deadline = Date.now() + 5_000;
      while (Date.now() < deadline) {
        ready = (await app.inject({ method: 'GET', url: '/api/health/ready' })).statusCode;
        if (ready === 200) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(ready, 200, 'not ready within 5 s of the database returning');
      assert.equal((await app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(owner.accessToken) })).statusCode, 200);
      const slug = `outage-${how}`;
      const again = await app.inject({ method: 'POST', url: '/api/tenants', headers: bearer(owner.accessToken), payload: { name: slug, slug } });
      assert.equal(again.statusCode, 201, `the failed creation left a row behind: ${again.body}`);
    });
  }
});
