import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { withTenant } from '../../src/db/index.js';
import { addMember, bearer, createTenant, createTestApp, signUp, type SignedInUser, type TestContext } from '../helpers/app.js';

/**
 * Issue 12 item 9: an invitation carries its inviter's authority. A manager demoted (or gone)
 * cannot still have an earlier staff invitation accepted: pending invitations the inviter's new
 * role could not send are revoked, and acceptance re-checks the inviter's current role.
 */
let ctx: TestContext;
let owner: SignedInUser;
let tenant: { id: string; slug: string };
before(async () => {
  ctx = await createTestApp();
  owner = await signUp(ctx.app, 'owner');
  tenant = await createTenant(ctx.app, owner);
});
after(async () => ctx.close());

const invite = async (by: SignedInUser, email: string, role: string) => {
  const res = await ctx.app.inject({ method: 'POST', url: `/api/tenants/${tenant.id}/invitations`, headers: bearer(by.accessToken), payload: { email, role } });
  assert.equal(res.statusCode, 201, res.body);
  return res.json<{ id: string; token: string }>();
};
const accept = (by: SignedInUser, token: string) =>
  ctx.app.inject({ method: 'POST', url: '/api/invitations/accept', headers: bearer(by.accessToken), payload: { token } });
const setRole = (userId: string, role: string) =>
  ctx.app.inject({ method: 'PATCH', url: `/api/tenants/${tenant.id}/members/${userId}`, headers: bearer(owner.accessToken), payload: { role } });
const pendingIds = async () =>
  (await ctx.app.inject({ url: `/api/tenants/${tenant.id}/invitations`, headers: bearer(owner.accessToken) })).json<{ items: Array<{ id: string }> }>()
    .items.map((i) => i.id);

async function newManager(): Promise<SignedInUser> {
  const m = await signUp(ctx.app, 'manager');
  await addMember(ctx.app, owner, tenant.id, m, 'manager');
  return m;
}

test('attack: a manager demoted to customer still has an earlier staff invitation accepted → 422, and it was revoked', async () => {
  const manager = await newManager();
  const invitee = await signUp(ctx.app, 'invitee');
  const inv = await invite(manager, invitee.email, 'staff');
  assert.equal((await setRole(manager.id, 'customer')).statusCode, 200);
  assert.ok(!(await pendingIds()).includes(inv.id), 'the demotion revoked the invitation');
  const res = await accept(invitee, inv.token);
  assert.equal(res.statusCode, 422, res.body);
  const members = await ctx.app.inject({ url: `/api/tenants/${tenant.id}/members`, headers: bearer(owner.accessToken) });
  assert.ok(!members.json<{ items: Array<{ userId: string }> }>().items.some((m) => m.userId === invitee.id));
});

test('attack: the inviter left the tenant → their pending invitations are revoked and refused', async () => {
  const manager = await newManager();
  const invitee = await signUp(ctx.app, 'invitee');
  const inv = await invite(manager, invitee.email, 'customer');
  const removed = await ctx.app.inject({ method: 'DELETE', url: `/api/tenants/${tenant.id}/members/${manager.id}`, headers: bearer(owner.accessToken) });
  assert.equal(removed.statusCode, 204);
  assert.ok(!(await pendingIds()).includes(inv.id));
  assert.equal((await accept(invitee, inv.token)).statusCode, 422);
});

test('attack: the role dropped without the service noticing (direct change) → acceptance re-checks the inviter', async () => {
  const manager = await newManager();
  const invitee = await signUp(ctx.app, 'invitee');
  const inv = await invite(manager, invitee.email, 'staff');
  await withTenant(ctx.database.db, tenant.id, (tx) =>
    tx.query(`UPDATE memberships SET role = 'staff' WHERE tenant_id = $1 AND user_id = $2`, [tenant.id, manager.id]));
  assert.ok((await pendingIds()).includes(inv.id), 'still pending: only acceptance can catch it');
  const res = await accept(invitee, inv.token);
  assert.equal(res.statusCode, 422);
  assert.equal(res.json<{ details: { reason: string } }>().details.reason, 'inviter_lost_authority');
});

test('an owner demoted to manager keeps the invitations a manager may send, loses the others', async () => {
  const second = await signUp(ctx.app, 'owner2');
  await addMember(ctx.app, owner, tenant.id, second, 'owner');
  const [a, b] = [await signUp(ctx.app, 'a'), await signUp(ctx.app, 'b')];
  const toManager = await invite(second, a.email, 'manager');
  const toStaff = await invite(second, b.email, 'staff');
  assert.equal((await setRole(second.id, 'manager')).statusCode, 200);
  const pending = await pendingIds();
  assert.ok(!pending.includes(toManager.id));
  assert.ok(pending.includes(toStaff.id));
  assert.equal((await accept(a, toManager.token)).statusCode, 422);
  assert.equal((await accept(b, toStaff.token)).statusCode, 200);
});
