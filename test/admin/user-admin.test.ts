import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Secret, TOTP } from 'otpauth';
import { grantSuperadmin } from '../../src/admin/admin.service.js';
import { createUserAdminService } from '../../src/admin/user-admin.service.js';
import { buildApp } from '../../src/app.js';
import { createInProcessBus } from '../../src/cache/in-process-bus.js';
import type { CacheBus } from '../../src/cache/invalidation-bus.js';
import { createRedisBus } from '../../src/cache/redis-bus.js';
import { systemClock } from '../../src/shared/clock.js';
import { createEventHub, NO_META } from '../../src/shared/events.js';
import { bearer, createTenant, createTestApp, errorBody, signUp, TEST_PASSWORD, uniqueEmail, type TestContext } from '../helpers/app.js';
import { waitFor } from '../helpers/doubles.js';

const REDIS_URL = process.env.REDIS_URL;

/**
 * Issue 18 / ADR 0021: superadmin user administration. Two app instances share the database and
 * a cache bus (Redis pub/sub when REDIS_URL is set, else the in-process bus): a disabled user's
 * sessions die on both at once (ASVS 5.0.0 7.4.2: all active sessions end when an account is
 * disabled or deleted; ASVS 4.0.3 7.1.3: security-relevant administrative actions are logged).
 */
describe('superadmin user administration across two instances', () => {
  let ctx: TestContext;
  let b: FastifyInstance;
  let buses: CacheBus[] = [];
  let root: { id: string; token: string };

  before(async () => {
    if (REDIS_URL) {
      const channel = `boka-test:${randomUUID()}`;
      buses = [createRedisBus({ url: REDIS_URL, channel }), createRedisBus({ url: REDIS_URL, channel })];
      for (const bus of buses) assert.equal(await (bus as ReturnType<typeof createRedisBus>).waitUntilReady(5_000), true);
    } else {
      const bus = createInProcessBus();
      buses = [bus, bus];
    }
    ctx = await createTestApp({ deps: { bus: buses[0] } });
    b = await buildApp(ctx.config, { db: ctx.database.db, bus: buses[1] });
    await b.ready();
    const email = uniqueEmail('root');
    const granted = await grantSuperadmin({ db: ctx.database.db, events: createEventHub() }, { email, password: TEST_PASSWORD });
    assert.ok(granted.ok);
    const login = await ctx.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password: TEST_PASSWORD } });
    root = { id: granted.userId, token: login.json().accessToken as string };
  });
  after(async () => {
    await b.close();
    await ctx.close();
  });

  const admin = (method: 'GET' | 'POST', url: string, payload?: object, token = root.token) =>
    ctx.app.inject({ method, url, headers: bearer(token), ...(payload ? { payload } : {}) });

  test('only superadmins list users; filter by email prefix (wildcards literal) and status; keyset pages', async () => {
    const tag = `pfx${randomUUID().slice(0, 8)}`;
    const users = [await signUp(ctx.app, `${tag}-a`), await signUp(ctx.app, `${tag}-b`), await signUp(ctx.app, `${tag}-c`)];
    const refused = await admin('GET', '/api/admin/users', undefined, users[0]!.accessToken);
    assert.equal(refused.statusCode, 403);
    assert.equal(errorBody(refused).code, 'forbidden');

    const all = await admin('GET', `/api/admin/users?emailPrefix=${tag.toUpperCase()}&limit=100`);
    assert.equal(all.statusCode, 200);
    assert.deepEqual(all.json().items.map((u: { id: string }) => u.id).sort(), users.map((u) => u.id).sort());
    const first = (await admin('GET', `/api/admin/users?emailPrefix=${tag}&limit=2`)).json();
    assert.equal(first.items.length, 2);
    const rest = (await admin('GET', `/api/admin/users?emailPrefix=${tag}&limit=2&cursor=${first.nextCursor}`)).json();
    assert.equal(rest.items.length, 1);
    assert.equal(rest.nextCursor, null);
    assert.equal((await admin('GET', `/api/admin/users?emailPrefix=${tag.slice(0, 3)}_`)).json().items.length, 0, '_ is not a wildcard');
    assert.equal((await admin('GET', `/api/admin/users?emailPrefix=%25`)).json().items.length, 0, '% is not a wildcard');
    assert.equal((await admin('POST', `/api/admin/users/${users[1]!.id}/disable`, { reason: 'test' })).statusCode, 200);
    const disabled = (await admin('GET', `/api/admin/users?emailPrefix=${tag}&status=disabled`)).json();
    assert.deepEqual(disabled.items.map((u: { id: string; status: string }) => [u.id, u.status]), [[users[1]!.id, 'disabled']]);
    for (const q of ['status=gone', 'limit=0', 'limit=101', 'emailPrefix=', 'other=1', 'cursor=%21%21']) {
      assert.equal((await admin('GET', `/api/admin/users?${q}`)).statusCode, 400, q);
    }
  });

  test('disable on one instance: the user cannot use a token, refresh or log in on the other, at once; enable restores login', async () => {
    const user = await signUp(ctx.app, 'to-disable');
    const onB = () => b.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(user.accessToken) });
    assert.equal((await onB()).statusCode, 200, 'B has the session cached now');

    const res = await admin('POST', `/api/admin/users/${user.id}/disable`, { reason: 'Support ticket 42' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().status, 'disabled');
    assert.equal(res.json().disabledReason, 'Support ticket 42');
    // In-process: delivered before publish returns. Redis: delivered asynchronously, polled for a
    // bounded number of attempts: far below the 60 s the cached session would otherwise live.
    const refusedOnB = await waitFor(async () => ((await onB()).statusCode === 401 ? true : null));
    assert.equal(refusedOnB, true);
    assert.equal(errorBody(await onB()).code, 'invalid_token');
    assert.equal((await ctx.app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(user.accessToken) })).statusCode, 401);
    const refresh = await b.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: user.refreshToken } });
    assert.equal(refresh.statusCode, 401);
    const login = await b.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: TEST_PASSWORD } });
    assert.equal(login.statusCode, 403);
    assert.equal(errorBody(login).code, 'account_disabled');
    const wrongPassword = await b.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: 'not the right password' } });
    assert.equal(errorBody(wrongPassword).code, 'invalid_credentials', 'only the password holder learns the account is disabled');

    const enabled = await admin('POST', `/api/admin/users/${user.id}/enable`, { reason: 'Resolved' });
    assert.equal(enabled.statusCode, 200);
    assert.equal(enabled.json().status, 'active');
    const back = await b.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: TEST_PASSWORD } });
    assert.equal(back.statusCode, 200);
    assert.equal((await onB()).statusCode, 401, 'sessions revoked by the disable stay revoked');

    const rows = await waitFor(async () => {
      const r = await ctx.database.db.query<{ action: string; actor: string; details: Record<string, unknown> }>(
        `SELECT action, actor_id AS actor, details FROM audit_log WHERE target = $1 AND action IN ('user.disabled', 'user.enabled') ORDER BY seq`, [`user:${user.id}`]);
      return r.rows.length === 2 ? r.rows : null;
    });
    assert.deepEqual(rows.map((r) => [r.action, r.actor, r.details.reason]), [['user.disabled', root.id, 'Support ticket 42'], ['user.enabled', root.id, 'Resolved']]);
  });

  test('a session of a disabled account is refused at its next load even if its row was never revoked (lost bus message, older writer)', async () => {
    const user = await signUp(ctx.app, 'blocked-row');
    // As an instance that knows nothing of sessions would leave it: only the account is marked.
    await ctx.database.db.query(`UPDATE users SET disabled_at = now() WHERE id = $1`, [user.id]);
    const fresh = await buildApp(ctx.config, { db: ctx.database.db, bus: createInProcessBus() });
    try {
      const me = await fresh.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(user.accessToken) });
      assert.equal(me.statusCode, 401);
      assert.equal(errorBody(me).code, 'invalid_token');
      const refresh = await fresh.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: user.refreshToken } });
      assert.equal(refresh.statusCode, 401);
    } finally {
      await fresh.close();
    }
  });

  test('an MFA challenge issued before the account was disabled opens no session', async () => {
    const user = await signUp(ctx.app, 'mfa-disabled');
    const post = (url: string, payload: object, token?: string) => ctx.app.inject({ method: 'POST', url, payload, headers: token ? bearer(token) : {} });
    const { secret } = (await post('/api/auth/mfa/totp/setup', {}, user.accessToken)).json<{ secret: string }>();
    const enabled = await post('/api/auth/mfa/totp/enable', { code: new TOTP({ secret: Secret.fromBase32(secret) }).generate() }, user.accessToken);
    const backupCode = enabled.json<{ backupCodes: string[] }>().backupCodes[0]!;
    const login = await post('/api/auth/login', { email: user.email, password: TEST_PASSWORD });
    const challengeToken = (errorBody(login).details as { challengeToken: string }).challengeToken;
    assert.equal((await admin('POST', `/api/admin/users/${user.id}/disable`, { reason: 'mfa' })).statusCode, 200);
    const verify = await post('/api/auth/mfa/verify', { challengeToken, code: backupCode });
    assert.equal(verify.statusCode, 403);
    assert.equal(errorBody(verify).code, 'account_disabled');
  });

  test('API keys belong to the tenant (ADR 0017): a disabled creator is refused on every instance while the key it made keeps working', async () => {
    const owner = await signUp(ctx.app, 'key-owner');
    const tenant = await createTenant(ctx.app, owner);
    const created = await ctx.app.inject({
      method: 'POST', url: `/api/tenants/${tenant.id}/api-keys`, headers: bearer(owner.accessToken), payload: { name: 'k', permissions: ['tenant.read'] },
    });
    assert.equal(created.statusCode, 201);
    const key = created.json().key as string;
    const useOnB = () => b.inject({ method: 'GET', url: `/api/tenants/${tenant.id}`, headers: { 'x-api-key': key } });
    const ownerOnB = () => b.inject({ method: 'GET', url: `/api/tenants/${tenant.id}`, headers: bearer(owner.accessToken) });
    assert.equal((await useOnB()).statusCode, 200);
    assert.equal((await ownerOnB()).statusCode, 200, 'B has the owner session cached now');
    assert.equal((await admin('POST', `/api/admin/users/${owner.id}/disable`, { reason: 'keys' })).statusCode, 200);
    await waitFor(async () => ((await ownerOnB()).statusCode === 401 ? true : null));
    assert.equal((await useOnB()).statusCode, 200, "the tenant's key outlives its creator's standing");
  });

  test('a superadmin cannot disable itself nor the last active superadmin; unknown and malformed ids are 404', async () => {
    const self = await admin('POST', `/api/admin/users/${root.id}/disable`, { reason: 'oops' });
    assert.equal(self.statusCode, 422);
    assert.deepEqual([errorBody(self).code, (errorBody(self).details as { reason: string }).reason], ['invalid_state', 'self']);
    // The last-superadmin rule holds even for an actor that is no superadmin any more (a race the
    // routes cannot produce in sequence): the service is asked directly.
    const service = createUserAdminService({ db: ctx.database.db, bus: buses[0]!, clock: systemClock, events: createEventHub() });
    const ghost = { userId: randomUUID(), role: 'superadmin' as const, meta: NO_META, can: () => true };
    await assert.rejects(service.disable(ghost, root.id, 'race'), (err: { code?: string; details?: { reason?: string } }) =>
      err.code === 'invalid_state' && err.details?.reason === 'last_active_superadmin');
    assert.equal((await admin('POST', `/api/admin/users/${randomUUID()}/disable`, { reason: 'x' })).statusCode, 404);
    assert.equal((await admin('POST', `/api/admin/users/${randomUUID().toUpperCase()}/disable`, { reason: 'x' })).statusCode, 404);
    const noReason = await admin('POST', `/api/admin/users/${randomUUID()}/disable`, {});
    assert.equal(noReason.statusCode, 400);
    const user = await signUp(ctx.app, 'plain');
    assert.equal((await admin('POST', `/api/admin/users/${root.id}/disable`, { reason: 'coup' }, user.accessToken)).statusCode, 403);
  });
});
