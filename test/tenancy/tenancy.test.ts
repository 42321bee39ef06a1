import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addMember, bearer, createTenant, createTestApp, errorBody, signUp, TEST_PASSWORD, type SignedInUser, type TestContext } from '../helpers/app.js';

describe('tenants and members', () => {
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestApp();
  });
  after(() => ctx.close());

  const inject = (user: SignedInUser, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
    ctx.app.inject({ method, url, headers: bearer(user.accessToken), ...(payload ? { payload } : {}) });

  test('creating a tenant makes the caller its owner', async () => {
    const owner = await signUp(ctx.app, 'owner');
    const res = await inject(owner, 'POST', '/api/tenants', { name: 'Salon Nord', slug: 'salon-nord' });
    assert.equal(res.statusCode, 201);
    const tenant = res.json();
    assert.deepEqual(Object.keys(tenant).sort(), ['createdAt', 'id', 'name', 'slug']);
    const me = await inject(owner, 'GET', '/api/auth/me');
    assert.deepEqual(me.json().memberships, [{ tenantId: tenant.id, tenantSlug: 'salon-nord', role: 'owner' }]);
    const dup = await inject(owner, 'POST', '/api/tenants', { name: 'Other', slug: 'salon-nord' });
    assert.equal(dup.statusCode, 409);
    assert.equal(errorBody(dup).code, 'duplicate_resource');
  });

  test('slugs: lowercase letters, digits and hyphens, 3–63 characters', async () => {
    const owner = await signUp(ctx.app, 'slugger');
    for (const slug of ['ab', 'Upper', 'has space', '-lead', 'trail-', 'a'.repeat(64), 'x_y', 'ünï']) {
      const res = await inject(owner, 'POST', '/api/tenants', { name: 'n', slug });
      assert.equal(res.statusCode, 400, slug);
      assert.equal(errorBody(res).code, 'validation_error');
    }
    for (const slug of ['abc', 'a1-b2', 'a'.repeat(63)]) {
      assert.equal((await inject(owner, 'POST', '/api/tenants', { name: 'n', slug })).statusCode, 201, slug);
    }
  });

  test('members list: staff and up, paginated with a cursor', async () => {
    const owner = await signUp(ctx.app, 'pag-owner');
    const tenant = await createTenant(ctx.app, owner);
    const users = [];
    for (let i = 0; i < 5; i += 1) {
      const u = await signUp(ctx.app, `pag-${i}`);
      await addMember(ctx.app, owner, tenant.id, u, 'customer');
      users.push(u);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await inject(owner, 'GET', `/api/tenants/${tenant.id}/members?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.statusCode, 200);
      const page = res.json<{ items: Array<{ userId: string }>; nextCursor: string | null }>();
      assert.ok(page.items.length <= 2);
      seen.push(...page.items.map((m) => m.userId));
      cursor = page.nextCursor;
    } while (cursor);
    assert.deepEqual(seen.sort(), [owner.id, ...users.map((u) => u.id)].sort());
    assert.equal((await inject(owner, 'GET', `/api/tenants/${tenant.id}/members?limit=101`)).statusCode, 400);
    assert.equal((await inject(owner, 'GET', `/api/tenants/${tenant.id}/members?cursor=%%%`)).statusCode, 400);
    const customer = await inject(users[0]!, 'GET', `/api/tenants/${tenant.id}/members`);
    assert.equal(customer.statusCode, 403);
    assert.deepEqual(errorBody(customer).details, { required: 'members.read', role: 'customer' });
  });

  test('escalation guard: only roles strictly below your own, except owner → owner', async () => {
    const owner = await signUp(ctx.app, 'esc-owner');
    const tenant = await createTenant(ctx.app, owner);
    const manager = await signUp(ctx.app, 'esc-manager');
    await addMember(ctx.app, owner, tenant.id, manager, 'manager');
    const target = await signUp(ctx.app, 'esc-target');
    const url = `/api/tenants/${tenant.id}/members`;

    const invitations = `/api/tenants/${tenant.id}/invitations`;
    for (const role of ['owner', 'manager']) {
      const res = await inject(manager, 'POST', invitations, { email: target.email, role });
      assert.equal(res.statusCode, 403, `manager grants ${role}`);
      assert.equal(errorBody(res).code, 'insufficient_permissions');
    }
    await addMember(ctx.app, manager, tenant.id, target, 'staff');
    // The manager may not lift the staff member to manager, nor demote the owner.
    assert.equal((await inject(manager, 'PATCH', `${url}/${target.id}`, { role: 'manager' })).statusCode, 403);
    assert.equal((await inject(manager, 'PATCH', `${url}/${owner.id}`, { role: 'staff' })).statusCode, 403);
    assert.equal((await inject(manager, 'DELETE', `${url}/${owner.id}`)).statusCode, 403);
    // The owner may make another owner.
    const promoted = await inject(owner, 'PATCH', `${url}/${manager.id}`, { role: 'owner' });
    assert.equal(promoted.statusCode, 200);
    assert.equal(promoted.json().role, 'owner');
  });

  test('the last owner can be neither demoted nor removed', async () => {
    const owner = await signUp(ctx.app, 'last-owner');
    const tenant = await createTenant(ctx.app, owner);
    const url = `/api/tenants/${tenant.id}/members/${owner.id}`;
    const demote = await inject(owner, 'PATCH', url, { role: 'manager' });
    assert.equal(demote.statusCode, 422);
    assert.equal(errorBody(demote).code, 'invalid_state');
    assert.equal((await inject(owner, 'DELETE', url)).statusCode, 422);
    // With a second owner, the first may step down.
    const second = await signUp(ctx.app, 'second-owner');
    await addMember(ctx.app, owner, tenant.id, second, 'owner');
    assert.equal((await inject(owner, 'PATCH', url, { role: 'manager' })).statusCode, 200);
  });

  test("a role change or removal takes effect on the member's very next request", async () => {
    const owner = await signUp(ctx.app, 'eff-owner');
    const tenant = await createTenant(ctx.app, owner);
    const member = await signUp(ctx.app, 'eff-member');
    await addMember(ctx.app, owner, tenant.id, member, 'staff');
    const list = () => inject(member, 'GET', `/api/tenants/${tenant.id}/members`);
    assert.equal((await list()).statusCode, 200); // warms the membership cache

    await inject(owner, 'PATCH', `/api/tenants/${tenant.id}/members/${member.id}`, { role: 'customer' });
    const demoted = await list();
    assert.equal(demoted.statusCode, 403);
    assert.equal(errorBody(demoted).code, 'insufficient_permissions');

    await inject(owner, 'DELETE', `/api/tenants/${tenant.id}/members/${member.id}`);
    const removed = await inject(member, 'GET', `/api/tenants/${tenant.id}`);
    assert.equal(removed.statusCode, 403);
    assert.equal(errorBody(removed).code, 'tenant_mismatch');
  });

  test('a superadmin reads any tenant without a membership; the same user without the flag cannot', async () => {
    const owner = await signUp(ctx.app, 'sa-owner');
    const tenant = await createTenant(ctx.app, owner);
    const admin = await signUp(ctx.app, 'sa');
    assert.equal((await inject(admin, 'GET', `/api/tenants/${tenant.id}`)).statusCode, 403);
    await ctx.database.db.query('UPDATE users SET is_superadmin = true WHERE id = $1', [admin.id]);
    const login = await ctx.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: admin.email, password: TEST_PASSWORD } });
    const elevated = { ...admin, accessToken: login.json<{ accessToken: string }>().accessToken };
    assert.equal((await inject(elevated, 'GET', `/api/tenants/${tenant.id}`)).statusCode, 200);
    assert.equal((await inject(elevated, 'GET', `/api/tenants/${tenant.id}/members`)).statusCode, 200);
  });
});
