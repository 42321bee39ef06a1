import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createLogTransport } from '../../src/mail/log-transport.js';
import { addMember, bearer, createTenant, createTestApp, signUp, uniqueEmail, type SignedInUser, type TestContext } from '../helpers/app.js';

/**
 * Issue 12 (Low): invitations were an unthrottled mail relay with attacker-chosen text. Each
 * invitation spends from the inviter's and the tenant's hourly budgets (429 when spent), and
 * the user-chosen tenant name stays out of the subject.
 */
const contexts: TestContext[] = [];
after(async () => {
  for (const c of contexts) await c.close();
});

async function app(env: Record<string, string>, mail = createLogTransport(() => {})) {
  const ctx = await createTestApp({ env, deps: { mail } });
  contexts.push(ctx);
  return ctx;
}
const invite = (ctx: TestContext, by: SignedInUser, tenantId: string) =>
  ctx.app.inject({ method: 'POST', url: `/api/tenants/${tenantId}/invitations`, headers: bearer(by.accessToken), payload: { email: uniqueEmail('spam'), role: 'customer' } });

test('attack: one user sends invitation mails without limit, across their own tenants → 429 past the per-inviter budget', async () => {
  const ctx = await app({ INVITATIONS_PER_INVITER_PER_HOUR: '3', INVITATIONS_PER_TENANT_PER_HOUR: '0' });
  const spammer = await signUp(ctx.app, 'spammer');
  const [a, b] = [await createTenant(ctx.app, spammer), await createTenant(ctx.app, spammer)];
  assert.deepEqual([(await invite(ctx, spammer, a.id)).statusCode, (await invite(ctx, spammer, a.id)).statusCode, (await invite(ctx, spammer, b.id)).statusCode], [201, 201, 201]);
  const refused = await invite(ctx, spammer, b.id);
  assert.equal(refused.statusCode, 429);
  assert.equal(refused.json<{ code: string }>().code, 'quota_exceeded');
  assert.ok(Number(refused.headers['retry-after']) > 0);
});

test('attack: several members of one tenant share the relay → 429 past the per-tenant budget', async () => {
  const ctx = await app({ INVITATIONS_PER_INVITER_PER_HOUR: '0', INVITATIONS_PER_TENANT_PER_HOUR: '4' });
  const owner = await signUp(ctx.app, 'owner');
  const manager = await signUp(ctx.app, 'manager');
  const tenant = await createTenant(ctx.app, owner);
  await addMember(ctx.app, owner, tenant.id, manager, 'manager'); // 1
  assert.equal((await invite(ctx, owner, tenant.id)).statusCode, 201); // 2
  assert.equal((await invite(ctx, owner, tenant.id)).statusCode, 201); // 3
  assert.equal((await invite(ctx, manager, tenant.id)).statusCode, 201); // 4
  assert.equal((await invite(ctx, manager, tenant.id)).statusCode, 429);
  // Another tenant has its own budget.
  const other = await createTenant(ctx.app, manager);
  assert.equal((await invite(ctx, manager, other.id)).statusCode, 201);
});

test('attack: a tenant named like a phishing subject → the subject is fixed text; the name stays in the body', async () => {
  const mail = createLogTransport(() => {});
  const ctx = await app({}, mail);
  const owner = await signUp(ctx.app, 'phisher');
  const name = 'URGENT your bank account is locked';
  const created = await ctx.app.inject({ method: 'POST', url: '/api/tenants', headers: bearer(owner.accessToken), payload: { name, slug: `p-${Date.now()}` } });
  assert.equal(created.statusCode, 201, created.body);
  assert.equal((await invite(ctx, owner, created.json<{ id: string }>().id)).statusCode, 201);
  const sent = mail.sent.at(-1)!;
  assert.ok(!sent.subject.includes(name), sent.subject);
  assert.ok(!/URGENT|bank/i.test(sent.subject));
  assert.ok(sent.text.includes(name));
});
