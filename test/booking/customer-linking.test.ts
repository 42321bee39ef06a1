import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { addMember, bearer, signUp, type SignedInUser, type TestContext, createTestApp } from '../helpers/app.js';
import { call, createBookingFixture, ok, type BookingFixture } from './helpers.js';

/**
 * Issue 12 item 4: staff could set `userId` on any customer record and so take over (or
 * orphan) another customer's reservations. Linking is `customers.link` (manager and above),
 * only to a member of the tenant, and audited.
 */
let ctx: TestContext;
let f: BookingFixture;
let staff: SignedInUser;
let victim: SignedInUser;
let stranger: SignedInUser;
let manager: SignedInUser;

before(async () => {
  ctx = await createTestApp();
  staff = await signUp(ctx.app, 'staff');
  f = await createBookingFixture(ctx.app, { staffUser: staff });
  victim = await signUp(ctx.app, 'victim');
  manager = await signUp(ctx.app, 'manager');
  stranger = await signUp(ctx.app, 'stranger');
  await addMember(ctx.app, f.owner, f.tenant.id, victim, 'customer');
  await addMember(ctx.app, f.owner, f.tenant.id, manager, 'manager');
});
after(async () => ctx.close());

test('attack: staff links another customer record to their own account → 403, record unchanged', async () => {
  const res = await call<{ code: string; details: { required: string } }>(ctx.app, staff, 'PATCH', `${f.base}/customers/${f.customerId}`, { userId: staff.id });
  assert.equal(res.status, 403);
  assert.equal(res.body.code, 'insufficient_permissions');
  assert.equal(res.body.details.required, 'customers.link');
  const record = await ok<{ userId: string | null }>(ctx.app, f.owner, 'GET', `${f.base}/customers/${f.customerId}`);
  assert.equal(record.userId ?? null, null);
});

test('attack: staff creates a customer record linked to their own account → 403', async () => {
  const res = await call(ctx.app, staff, 'POST', `${f.base}/customers`, { name: 'Me', email: 'me-too@example.test', userId: staff.id });
  assert.equal(res.status, 403);
});

test('attack: staff unlinks a real customer from their record → 403; unrelated edits still work', async () => {
  const linked = await ok<{ id: string }>(ctx.app, manager, 'POST', `${f.base}/customers`, { name: 'Vic', email: victim.email, userId: victim.id });
  assert.equal((await call(ctx.app, staff, 'PATCH', `${f.base}/customers/${linked.id}`, { userId: null })).status, 403);
  // Same user id (no change) and other fields stay a staff action.
  assert.equal((await call(ctx.app, staff, 'PATCH', `${f.base}/customers/${linked.id}`, { userId: victim.id, phone: '+100' })).status, 200);
  const record = await ok<{ userId: string | null }>(ctx.app, f.owner, 'GET', `${f.base}/customers/${linked.id}`);
  assert.equal(record.userId, victim.id);
});

test('attack: a manager links a customer record to an account outside the tenant → 404, like an unknown id', async () => {
  const foreign = await call<{ code: string; message: string }>(ctx.app, manager, 'PATCH', `${f.base}/customers/${f.customerId}`, { userId: stranger.id });
  const unknown = await call<{ code: string; message: string }>(ctx.app, manager, 'PATCH', `${f.base}/customers/${f.customerId}`, {
    userId: '00000000-0000-4000-8000-000000000000',
  });
  assert.equal(foreign.status, 404);
  assert.deepEqual([foreign.status, foreign.body.code, foreign.body.message], [unknown.status, unknown.body.code, unknown.body.message]);
});

test('a manager links a member, and the change is audited with from/to', async () => {
  const c = await ok<{ id: string }>(ctx.app, manager, 'POST', `${f.base}/customers`, { name: 'Later', email: 'later@example.test' });
  const linked = await ok<{ userId: string }>(ctx.app, manager, 'PATCH', `${f.base}/customers/${c.id}`, { userId: staff.id });
  assert.equal(linked.userId, staff.id);
  await ok(ctx.app, manager, 'PATCH', `${f.base}/customers/${c.id}`, { userId: null });
  // Audit writes are asynchronous (after the response): poll, bounded.
  type Item = { target: string; actor: { id: string }; details: Record<string, unknown> };
  let items: Item[] = [];
  for (let i = 0; i < 100 && items.length < 2; i += 1) {
    if (i > 0) await new Promise((r) => setTimeout(r, 20));
    const res = await ctx.app.inject({ url: `/api/tenants/${f.tenant.id}/audit?action=customer.linked`, headers: bearer(f.owner.accessToken) });
    items = res.json<{ items: Item[] }>().items.filter((it) => it.target === `customer:${c.id}`);
  }
  assert.equal(items.length, 2);
  assert.ok(items.every((i) => i.actor.id === manager.id));
  assert.deepEqual(items.map((i) => i.details).sort((a, b) => String(a.to).localeCompare(String(b.to))), [
    { from: null, to: staff.id },
    { from: staff.id, to: null },
  ].sort((a, b) => String(a.to).localeCompare(String(b.to))));
});
