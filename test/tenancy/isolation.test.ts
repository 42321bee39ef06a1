import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { listRoutes } from '../../src/access/pipeline.js';
import { TENANT_ROLES } from '../../src/access/permissions.js';
import { addMember, bearer, createTenant, createTestApp, errorBody, signUp, type SignedInUser, type TestContext } from '../helpers/app.js';

/** Tenant isolation (ASVS 4.2.1, OWASP API1:2023 BOLA): the path's tenant is checked against the caller. */
describe('tenant isolation', () => {
  let ctx: TestContext;
  let ownerA: SignedInUser;
  let ownerB: SignedInUser;
  let tenantA: { id: string };
  let tenantB: { id: string };

  before(async () => {
    ctx = await createTestApp();
    ownerA = await signUp(ctx.app, 'owner-a');
    ownerB = await signUp(ctx.app, 'owner-b');
    tenantA = await createTenant(ctx.app, ownerA);
    tenantB = await createTenant(ctx.app, ownerB);
  });
  after(() => ctx.close());

  test("every tenant-scoped route refuses the other tenant's owner with 403 tenant_mismatch", async () => {
    const scoped = listRoutes(ctx.app).filter((r) => 'tenant' in r.access);
    assert.ok(scoped.length >= 5, `expected the tenant routes to be registered, found ${scoped.length}`);
    for (const route of scoped) {
      const url = route.url.replace(':tenantId', tenantA.id).replace(/:[A-Za-z]+/g, () => randomUUID());
      const res = await ctx.app.inject({
        method: route.method as 'GET',
        url,
        headers: bearer(ownerB.accessToken),
        ...(['POST', 'PUT', 'PATCH'].includes(route.method) ? { payload: {} } : {}),
      });
      assert.equal(res.statusCode, 403, `${route.method} ${route.url}: ${res.body}`);
      assert.equal(errorBody(res).code, 'tenant_mismatch', `${route.method} ${route.url}`);
    }
  });

  test('tenant ids in the body or query are never trusted', async () => {
    const res = await ctx.app.inject({
      method: 'GET',
      url: `/api/tenants/${tenantB.id}?tenantId=${tenantA.id}`,
      headers: bearer(ownerA.accessToken),
    });
    assert.equal(res.statusCode, 403);
  });

  test('malformed and unknown tenant ids never reach the database as such', async () => {
    for (const id of ['not-a-uuid', "' OR 1=1 --", '00000000-0000-0000-0000-00000000000g']) {
      const res = await ctx.app.inject({ url: `/api/tenants/${encodeURIComponent(id)}`, headers: bearer(ownerA.accessToken) });
      assert.equal(res.statusCode, 404, id);
    }
    const unknown = await ctx.app.inject({ url: `/api/tenants/${randomUUID()}`, headers: bearer(ownerA.accessToken) });
    assert.equal(unknown.statusCode, 403, 'an unknown tenant looks like a foreign one: no existence oracle');
  });

  test('row-level security: without the tenant setting the application role sees no tenant rows', async () => {
    const db = ctx.database.db;
    const role = await db.query<{ current_user: string; rolsuper: boolean }>(
      'SELECT current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS rolsuper',
    );
    assert.deepEqual(role.rows[0], { current_user: 'boka_app', rolsuper: false });
    assert.equal((await db.query('SELECT * FROM tenants')).rows.length, 0);
    assert.equal((await db.query('SELECT * FROM memberships')).rows.length, 0);
    const scoped = await db.transaction(async (tx) => {
      await tx.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantA.id]);
      return {
        tenants: (await tx.query<{ id: string }>('SELECT id FROM tenants')).rows.map((r) => r.id),
        members: (await tx.query<{ tenant_id: string }>('SELECT tenant_id FROM memberships')).rows.map((r) => r.tenant_id),
      };
    });
    assert.deepEqual(scoped.tenants, [tenantA.id]);
    assert.ok(scoped.members.length > 0 && scoped.members.every((t) => t === tenantA.id));
    // Writing a row for another tenant under tenant A's setting is refused by the policy.
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantA.id]);
        await tx.query(`INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, 'owner')`, [tenantB.id, ownerA.id]);
      }),
      /row-level security/,
    );
  });

  test('transaction scope: UUIDs only, sent with BEGIN, gone after the transaction', async () => {
    const db = ctx.database.db;
    const read = (tx: { query: typeof db.query }) =>
      tx.query<{ t: string; u: string }>(`SELECT current_setting('app.tenant_id', true) AS t, current_setting('app.user_id', true) AS u`);
    // A value that would end the statement if it were pasted into the SQL text is refused
    // before any SQL is built (and would be quoted as a literal if it were not).
    const hostile = `x'); SELECT set_config('app.user_id', 'injected', false); --`;
    for (const scope of [{ 'app.tenant_id': hostile }, { 'app.tenant_id': 42 as unknown as string }, { 'app.other': tenantA.id }]) {
      await assert.rejects(db.transaction(async (tx) => read(tx), scope as never), /scope/);
    }
    const inside = await db.transaction(async (tx) => (await read(tx)).rows[0], { 'app.tenant_id': tenantA.id, 'app.user_id': ownerA.id });
    assert.deepEqual(inside, { t: tenantA.id, u: ownerA.id });
    // Transaction-local: the pooled connections that ran it carry nothing into their next use.
    for (let i = 0; i < 12; i += 1) {
      const after = (await read(db)).rows[0]!;
      assert.ok(!after.t && !after.u, `setting leaked: ${JSON.stringify(after)}`);
    }
    const tenants = await db.transaction(async (tx) => (await tx.query<{ id: string }>('SELECT id FROM tenants')).rows, { 'app.tenant_id': tenantA.id });
    assert.deepEqual(tenants.map((r) => r.id), [tenantA.id]);
  });

  test('property: random users, roles and tenants never read another tenant’s data', async () => {
    const pool: SignedInUser[] = [];
    for (let i = 0; i < 4; i += 1) pool.push(await signUp(ctx.app, `prop-${i}`));
    const roleArb = fc.option(fc.constantFrom(...TENANT_ROLES), { nil: null });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(roleArb, { minLength: 4, maxLength: 4 }), { minLength: 2, maxLength: 3 }), async (grid) => {
        // grid[t][u]: user u's role in tenant t (null = not a member). User 0 creates every tenant.
        const tenants: Array<{ id: string; roles: Array<string | null> }> = [];
        for (const roles of grid) {
          const t = await createTenant(ctx.app, pool[0]!);
          const effective = roles.map((r, u) => (u === 0 ? 'owner' : r));
          for (let u = 1; u < pool.length; u += 1) if (effective[u]) await addMember(ctx.app, pool[0]!, t.id, pool[u]!, effective[u]!);
          tenants.push({ id: t.id, roles: effective });
        }
        for (const t of tenants) {
          for (let u = 0; u < pool.length; u += 1) {
            const headers = bearer(pool[u]!.accessToken);
            const read = await ctx.app.inject({ url: `/api/tenants/${t.id}`, headers });
            const members = await ctx.app.inject({ url: `/api/tenants/${t.id}/members`, headers });
            const role = t.roles[u];
            if (!role) {
              assert.equal(read.statusCode, 403);
              assert.equal(members.statusCode, 403);
              continue;
            }
            assert.equal(read.statusCode, 200);
            assert.equal(read.json().id, t.id);
            const canList = ['owner', 'manager', 'staff'].includes(role);
            assert.equal(members.statusCode, canList ? 200 : 403);
            if (canList) {
              const ids = members.json<{ items: Array<{ userId: string }> }>().items.map((m) => m.userId).sort();
              const expected = pool.filter((_, i) => t.roles[i]).map((p) => p.id).sort();
              assert.deepEqual(ids, expected, 'members of exactly this tenant');
            }
          }
          const me = await ctx.app.inject({ url: '/api/auth/me', headers: bearer(pool[1]!.accessToken) });
          const mine = me.json<{ memberships: Array<{ tenantId: string }> }>().memberships.map((m) => m.tenantId);
          assert.equal(mine.includes(t.id), Boolean(t.roles[1]));
        }
      }),
      { numRuns: 8 },
    );
  });
});
