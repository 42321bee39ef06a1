import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createLogTransport } from '../../src/mail/log-transport.js';
import { bearer, createTenant, createTestApp, signUp, type SignedInUser, type TestContext } from '../helpers/app.js';

/**
 * Issue 12 item 5: `POST /api/tenants/:tenantId/members {email, role}` added any existing
 * account to the caller's tenant, even as owner, without consent, and told the caller whether
 * the address had an account (with its user id and name). The route is gone; people join only
 * by accepting a mailed invitation, which answers alike whether or not the account exists.
 */
const mail = createLogTransport(() => {});
let ctx: TestContext;
let attacker: SignedInUser;
let tenant: { id: string };
before(async () => {
  ctx = await createTestApp({ deps: { mail } });
  attacker = await signUp(ctx.app, 'attacker');
  tenant = await createTenant(ctx.app, attacker);
});
after(async () => ctx.close());

const memberIds = async () =>
  (await ctx.app.inject({ url: `/api/tenants/${tenant.id}/members`, headers: bearer(attacker.accessToken) })).json<{ items: Array<{ userId: string }> }>()
    .items.map((m) => m.userId);

test('attack: add an existing account as owner by its email → 405, no such operation; the victim is not a member', async () => {
  const victim = await signUp(ctx.app, 'victim');
  const res = await ctx.app.inject({
    method: 'POST',
    url: `/api/tenants/${tenant.id}/members`,
    headers: bearer(attacker.accessToken),
    payload: { email: victim.email, role: 'owner' },
  });
  assert.equal(res.statusCode, 405, res.body);
  assert.ok(!res.body.includes(victim.id));
  assert.ok(!(await memberIds()).includes(victim.id));
  const spec = (await ctx.app.inject({ url: '/openapi.json' })).json<{ paths: Record<string, Record<string, unknown>> }>();
  assert.equal(spec.paths['/api/tenants/{tenantId}/members']?.post, undefined);
});

test('attack: probe whether an address has an account → the invitation answers alike, and discloses no user', async () => {
  const known = await signUp(ctx.app, 'known');
  const invite = (email: string) =>
    ctx.app.inject({ method: 'POST', url: `/api/tenants/${tenant.id}/invitations`, headers: bearer(attacker.accessToken), payload: { email, role: 'owner' } });
  const a = await invite(known.email);
  const b = await invite('nobody-here@example.test');
  assert.equal(a.statusCode, 201);
  assert.equal(b.statusCode, a.statusCode);
  const shape = (body: Record<string, unknown>) => Object.keys(body).sort();
  assert.deepEqual(shape(a.json()), shape(b.json()));
  assert.ok(!a.body.includes(known.id));
  assert.ok(!a.body.includes('"name"'));
  // Consent: inviting someone, even as owner, does not make them a member.
  assert.ok(!(await memberIds()).includes(known.id));
  // (Sign-up also mailed a verification link, ADR 0013; count the invitations only.)
  assert.equal(mail.sent.filter((m) => m.to === known.email && m.text.includes('inv_')).length, 1, 'the address owner is asked by mail');
});
