import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { createInProcessBus } from '../../src/cache/in-process-bus.js';
import { addMember, bearer, createTenant, createTestApp, signUp, type TestContext } from '../helpers/app.js';
import { countingDatabase } from '../helpers/database.js';

// GET /api/auth/me is the most frequent signed-in call of a client: on a warm instance it is
// answered from the bus-invalidated caches, and every change it shows reaches every instance
// through the bus on the very next request.
describe('GET /api/auth/me', () => {
  let ctx: TestContext;
  let a: FastifyInstance;
  let b: FastifyInstance;
  let statements: ReturnType<typeof countingDatabase>;
  before(async () => {
    const bus = createInProcessBus();
    ctx = await createTestApp({ deps: { bus } });
    a = ctx.app;
    // Instance B shares the database and the bus; its statements are counted.
    statements = countingDatabase(ctx.database.db, /./);
    b = await buildApp(ctx.config, { db: statements.db, bus });
    await b.ready();
  });
  after(async () => {
    await b.close();
    await ctx.close();
  });

  const me = async (app: FastifyInstance, token: string) => {
    const res = await app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(token) });
    assert.equal(res.statusCode, 200, res.body);
    return res.json<{ user: { id: string; email: string }; memberships: Array<{ tenantId: string; role: string }>; session: { id: string } }>();
  };

  test('a warm instance answers without a database statement', async () => {
    const user = await signUp(a, 'warm');
    const tenant = await createTenant(a, user);
    const first = await me(b, user.accessToken);
    assert.equal(first.user.id, user.id);
    assert.equal(first.session.id, user.sessionId);
    assert.deepEqual(first.memberships.map((m) => m.tenantId), [tenant.id]);
    statements.reset();
    for (let i = 0; i < 5; i++) assert.deepEqual(await me(b, user.accessToken), first);
    assert.equal(statements.count(), 0);
  });

  test('membership changes on one instance show on the other at the next request', async () => {
    const owner = await signUp(a, 'owner');
    const member = await signUp(a, 'member');
    const tenant = await createTenant(a, owner);
    assert.deepEqual((await me(b, member.accessToken)).memberships, [], 'cached as "no memberships"');

    await addMember(a, owner, tenant.id, member, 'staff');
    assert.deepEqual((await me(b, member.accessToken)).memberships.map((m) => [m.tenantId, m.role]), [[tenant.id, 'staff']]);

    const patch = await a.inject({
      method: 'PATCH',
      url: `/api/tenants/${tenant.id}/members/${member.id}`,
      headers: bearer(owner.accessToken),
      payload: { role: 'manager' },
    });
    assert.equal(patch.statusCode, 200, patch.body);
    assert.deepEqual((await me(b, member.accessToken)).memberships.map((m) => m.role), ['manager']);

    const removed = await a.inject({ method: 'DELETE', url: `/api/tenants/${tenant.id}/members/${member.id}`, headers: bearer(owner.accessToken) });
    assert.equal(removed.statusCode, 204);
    assert.deepEqual((await me(b, member.accessToken)).memberships, []);
  });

  test('after logout on one instance the other refuses the token', async () => {
    const user = await signUp(a, 'leaver');
    await me(b, user.accessToken);
    const out = await a.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(user.accessToken) });
    assert.equal(out.statusCode, 204);
    assert.equal((await b.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(user.accessToken) })).statusCode, 401);
  });
});
