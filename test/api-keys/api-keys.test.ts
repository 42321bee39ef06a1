import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { touchApiKeys } from '../../src/api-keys/api-keys.repo.js';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { withTenant } from '../../src/db/index.js';
import { addMember, bearer, createTenant, errorBody, signUp, type SignedInUser } from '../helpers/app.js';
import { countingDatabase, createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { waitFor } from '../helpers/doubles.js';

// The app is built by hand (not createTestApp) only to wrap the real database in a statement
// counter: "no database read on a cache hit" and "no write per request" are claims about it.
describe('API keys (tenant-owned, hashed, cached, least privilege)', () => {
  let database: TestDatabase;
  let counter: ReturnType<typeof countingDatabase>;
  let app: FastifyInstance;
  let owner: SignedInUser;
  let manager: SignedInUser;
  let tenant: { id: string };
  let other: { id: string };

  before(async () => {
    database = await createTestDatabase();
    counter = countingDatabase(database.db, /api_keys/);
    const config = loadConfig({ NODE_ENV: 'test', BOKA_DATA_DIR: 'memory', BOKA_SECRET_KEY: randomBytes(32).toString('base64url') }, { databaseUrl: database.url });
    app = await buildApp(config, { db: counter.db });
    await app.ready();
    owner = await signUp(app, 'owner');
    manager = await signUp(app, 'manager');
    tenant = await createTenant(app, owner);
    other = await createTenant(app, owner);
    await addMember(app, owner, tenant.id, manager, 'manager');
  });
  after(async () => {
    await app.close();
    await database.drop();
  });

  async function createKey(by: SignedInUser, permissions: string[], tenantId = tenant.id, extra: Record<string, unknown> = {}) {
    return app.inject({ method: 'POST', url: `/api/tenants/${tenantId}/api-keys`, headers: bearer(by.accessToken), payload: { name: 'ci', permissions, ...extra } });
  }

  test('create returns the secret once (≥ 128 random bits); the list never shows it', async () => {
    const res = await createKey(owner, ['tenant.read', 'members.read']);
    assert.equal(res.statusCode, 201);
    const body = res.json();
    assert.deepEqual(Object.keys(body).sort(), [
      'createdAt', 'createdBy', 'expiresAt', 'id', 'key', 'lastUsedAt', 'name', 'permissions', 'prefix',
      'previousSecretValidUntil', 'rateLimitPerMinute', 'revokedAt', 'roleCeiling', 'rotatedAt', 'rotatedBy',
    ]);
    assert.equal(body.roleCeiling, 'staff', 'without a ceiling: the lowest role holding the permissions');
    assert.match(body.key, /^boka_sk_[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$/); // 32 random bytes
    assert.ok(body.key.startsWith(body.prefix));
    const list = await app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}/api-keys`, headers: bearer(owner.accessToken) });
    assert.equal(list.statusCode, 200);
    const item = list.json().items.find((k: { id: string }) => k.id === body.id);
    assert.ok(item);
    assert.equal(item.key, undefined);
    assert.ok('lastUsedAt' in item);
    assert.ok(!list.body.includes(body.key.split('.')[1]));
    // Stored as a hash only (ASVS 2.10.x / 6.4.1): the secret is nowhere in the table.
    const rows = await database.db.transaction(async (tx) => {
      await tx.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenant.id]);
      return (await tx.query<Record<string, unknown>>(`SELECT * FROM api_keys WHERE id = $1`, [body.id])).rows;
    });
    assert.equal(rows.length, 1);
    assert.ok(!JSON.stringify(rows).includes(body.key.split('.')[1]));
  });

  test('X-API-Key and Bearer both authenticate; the key reaches only its own permissions and tenant', async () => {
    const { key } = (await createKey(owner, ['tenant.read'])).json();
    assert.equal((await app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}`, headers: { 'x-api-key': key } })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}`, headers: bearer(key) })).statusCode, 200);
    const denied = await app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}/members`, headers: { 'x-api-key': key } });
    assert.equal(denied.statusCode, 403);
    assert.equal(errorBody(denied).code, 'insufficient_permissions');
    // ASVS 4.1.3 / 4.2.1: a key of tenant A never reaches tenant B, even though its creator owns B.
    const foreign = await app.inject({ method: 'GET', url: `/api/tenants/${other.id}`, headers: { 'x-api-key': key } });
    assert.equal(foreign.statusCode, 403);
    assert.equal(errorBody(foreign).code, 'tenant_mismatch');
    // User-only endpoints refuse keys.
    assert.equal((await app.inject({ method: 'GET', url: '/api/auth/me', headers: { 'x-api-key': key } })).statusCode, 403);
  });

  test('a key cannot be granted more than its creator holds, nor mint keys', async () => {
    const res = await createKey(manager, ['tenant.manage']);
    assert.equal(res.statusCode, 403);
    assert.equal(errorBody(res).code, 'insufficient_permissions');
    const { key } = (await createKey(owner, ['api_keys.create'])).json();
    const mint = await app.inject({ method: 'POST', url: `/api/tenants/${tenant.id}/api-keys`, headers: { 'x-api-key': key }, payload: { name: 'x', permissions: ['tenant.read'] } });
    assert.equal(mint.statusCode, 403);
    assert.equal((await createKey(owner, ['not.a_permission'])).statusCode, 400);
    assert.equal((await createKey(owner, ['tenant.read'], tenant.id, { expiresAt: '2000-01-01T00:00:00Z' })).statusCode, 400);
  });

  test('the key belongs to the tenant: its creator demoted, then removed, it keeps its ceiling (ADR 0017)', async () => {
    const { key } = (await createKey(manager, ['members.read', 'members.create'])).json();
    const members = () => app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}/members`, headers: { 'x-api-key': key } });
    assert.equal((await members()).statusCode, 200);
    const demote = await app.inject({ method: 'PATCH', url: `/api/tenants/${tenant.id}/members/${manager.id}`, headers: bearer(owner.accessToken), payload: { role: 'guest' } });
    assert.equal(demote.statusCode, 200);
    assert.equal((await members()).statusCode, 200, 'demotion does not shrink a service principal');
    const remove = await app.inject({ method: 'DELETE', url: `/api/tenants/${tenant.id}/members/${manager.id}`, headers: bearer(owner.accessToken) });
    assert.equal(remove.statusCode, 204);
    assert.equal((await members()).statusCode, 200, 'removal does not kill it');
    // Still bounded by its own scope.
    const beyond = await app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}/audit`, headers: { 'x-api-key': key } });
    assert.equal(beyond.statusCode, 403);
    await addMember(app, owner, tenant.id, manager, 'manager');
  });

  test('a cache hit costs no database read; lastUsedAt is batched, not written per request', async () => {
    const { key, id } = (await createKey(owner, ['tenant.read'])).json();
    const call = () => app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}`, headers: { 'x-api-key': key } });
    assert.equal((await call()).statusCode, 200); // first use: one read fills the cache
    counter.reset();
    for (let i = 0; i < 10; i += 1) assert.equal((await call()).statusCode, 200);
    assert.equal(counter.count(), 0, 'ten authenticated requests touched api_keys');
    const list = await app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}/api-keys`, headers: bearer(owner.accessToken) });
    const item = list.json().items.find((k: { id: string }) => k.id === id);
    assert.ok(item.lastUsedAt, 'lastUsedAt reflects unflushed uses');
  });

  test("a tenant's batch of last uses is one statement and never moves a timestamp backwards", async () => {
    const ids = [(await createKey(owner, ['tenant.read'])).json().id as string, (await createKey(owner, ['tenant.read'])).json().id as string];
    const later = new Date('2031-01-01T00:00:00Z');
    const earlier = new Date('2030-01-01T00:00:00Z');
    counter.reset();
    await withTenant(counter.db, tenant.id, (tx) => touchApiKeys(tx, tenant.id, ids.map((id) => ({ id, at: later }))));
    assert.equal(counter.count(), 1, 'one UPDATE for both keys');
    await withTenant(counter.db, tenant.id, (tx) => touchApiKeys(tx, tenant.id, [{ id: ids[0]!, at: earlier }]));
    // Another tenant's batch naming these ids changes nothing.
    await withTenant(counter.db, other.id, (tx) => touchApiKeys(tx, other.id, [{ id: ids[1]!, at: new Date('2032-01-01T00:00:00Z') }]));
    const rows = await withTenant(database.db, tenant.id, (tx) =>
      tx.query<{ id: string; last_used_at: Date }>('SELECT id, last_used_at FROM api_keys WHERE id = ANY($1::uuid[])', [ids]));
    assert.deepEqual(ids.map((id) => rows.rows.find((r) => r.id === id)?.last_used_at.toISOString()), [later.toISOString(), later.toISOString()]);
  });

  test('revocation takes effect on the very next request, with a cached key', async () => {
    const { key, id } = (await createKey(owner, ['tenant.read'])).json();
    assert.equal((await app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}`, headers: { 'x-api-key': key } })).statusCode, 200);
    const del = await app.inject({ method: 'DELETE', url: `/api/tenants/${tenant.id}/api-keys/${id}`, headers: bearer(owner.accessToken) });
    assert.equal(del.statusCode, 204);
    const after = await app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}`, headers: { 'x-api-key': key } });
    assert.equal(after.statusCode, 401);
    assert.equal(errorBody(after).code, 'invalid_token');
    // Someone else's tenant cannot revoke it, and unknown ids are 404.
    const again = await app.inject({ method: 'DELETE', url: `/api/tenants/${other.id}/api-keys/${id}`, headers: bearer(owner.accessToken) });
    assert.equal(again.statusCode, 404);
  });

  test('a wrong secret for a real key id is refused and audited as apikey.use_denied', async () => {
    const { key, id } = (await createKey(owner, ['tenant.read'])).json();
    const forged = `${key.split('.')[0]}.${'A'.repeat(43)}`;
    const res = await app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}`, headers: { 'x-api-key': forged } });
    assert.equal(res.statusCode, 401);
    const rows = await waitFor(async () => {
      const r = await app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}/audit?action=apikey.use_denied`, headers: bearer(owner.accessToken) });
      const items = r.json().items as Array<{ target: string; ip: string | null; requestId: string | null }>;
      return items.some((i) => i.target === `api_key:${id}`) ? items : null;
    });
    const row = rows.find((i) => i.target === `api_key:${id}`)!;
    assert.equal(row.requestId, res.headers['x-request-id'], 'the refused request is traceable');
    assert.equal(row.ip, '127.0.0.1');
  });
});
