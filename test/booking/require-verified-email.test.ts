import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { addMember, createTestApp, inviteToken, signUp, type SignedInUser, type TestContext } from '../helpers/app.js';
import { createMailbox, waitFor } from '../helpers/doubles.js';
import { call, createBookingFixture, createTestClock, ok } from './helpers.js';

/**
 * Issue 18 / ADR 0021: a tenant setting `requireVerifiedEmail` makes booking as a customer and
 * joining by invitation wait for a verified address (403 `email_not_verified`,
 * `details.reason: tenant_requires_verified_email`). PGlite and PostgreSQL.
 */
const mailbox = createMailbox();
let ctx: TestContext;
before(async () => {
  ctx = await createTestApp({ deps: { clock: createTestClock(), mail: mailbox } });
});
after(async () => ctx.close());

async function verify(user: SignedInUser): Promise<void> {
  const mail = await waitFor(async () => mailbox.messages.find((m) => m.to === user.email && m.text.includes('#token=ev_')));
  const res = await ctx.app.inject({ method: 'POST', url: '/api/auth/verify-email', payload: { token: /#token=(\S+)/.exec(mail.text)![1]! } });
  assert.equal(res.statusCode, 204);
}

function assertUnverifiedRefusal(res: { status: number; body: unknown }): void {
  assert.equal(res.status, 403);
  const body = res.body as { code: string; details: { reason: string } };
  assert.equal(body.code, 'email_not_verified');
  assert.equal(body.details.reason, 'tenant_requires_verified_email');
}

test('the setting is off by default, owners switch it on, staff cannot', async () => {
  const g = await createBookingFixture(ctx.app);
  assert.equal((await ok<{ requireVerifiedEmail: boolean }>(ctx.app, g.owner, 'GET', `${g.base}/settings`)).requireVerifiedEmail, false);
  const on = await ok<{ requireVerifiedEmail: boolean }>(ctx.app, g.owner, 'PATCH', `${g.base}/settings`, { requireVerifiedEmail: true });
  assert.equal(on.requireVerifiedEmail, true);
  assert.equal((await ok<{ requireVerifiedEmail: boolean; timezone: string }>(ctx.app, g.owner, 'PATCH', `${g.base}/settings`, { timezone: 'Europe/Berlin' })).requireVerifiedEmail, true, 'other patches keep it');
  assert.equal((await call(ctx.app, g.owner, 'PATCH', `${g.base}/settings`, { requireVerifiedEmail: 'yes' })).status, 400);
  const staff = await signUp(ctx.app, 'staffer');
  await verify(staff);
  await addMember(ctx.app, g.owner, g.tenant.id, staff, 'staff');
  assert.equal((await call(ctx.app, staff, 'PATCH', `${g.base}/settings`, { requireVerifiedEmail: false })).status, 403);
});

test('public booking: an unverified account is refused while the setting is on, books once verified or with it off', async () => {
  const g = await createBookingFixture(ctx.app);
  await ok(ctx.app, g.owner, 'PATCH', `${g.base}/settings`, { requireVerifiedEmail: true });
  const user = await signUp(ctx.app, 'unverified-booker');
  const url = `/api/public/tenants/${g.tenant.slug}/reservations`;
  const slot = (hour: number) => ({ serviceId: g.serviceId, staffId: g.staffId, start: `2026-03-24T${hour}:00:00Z` });
  assertUnverifiedRefusal(await call(ctx.app, user, 'POST', url, slot(10)));
  const members = await ok<{ items: Array<{ userId: string }> }>(ctx.app, g.owner, 'GET', `${g.base}/members`);
  assert.ok(!members.items.some((m) => m.userId === user.id), 'the refusal joined nobody (one transaction)');
  await verify(user);
  assert.equal((await call(ctx.app, user, 'POST', url, slot(10))).status, 201);

  const other = await signUp(ctx.app, 'booker-when-off');
  await ok(ctx.app, g.owner, 'PATCH', `${g.base}/settings`, { requireVerifiedEmail: false });
  assert.equal((await call(ctx.app, other, 'POST', url, slot(11))).status, 201);
});

test('tenant route: a customer booking for itself is refused while unverified; a manager booking for others is not', async () => {
  const g = await createBookingFixture(ctx.app);
  const customerUser = await signUp(ctx.app, 'member-customer');
  await addMember(ctx.app, g.owner, g.tenant.id, customerUser, 'customer');
  const own = await ok<{ id: string }>(ctx.app, g.owner, 'POST', `${g.base}/customers`, { name: 'Self', email: customerUser.email, userId: customerUser.id });
  await ok(ctx.app, g.owner, 'PATCH', `${g.base}/settings`, { requireVerifiedEmail: true });
  const body = (hour: number, customerId: string) => ({ serviceId: g.serviceId, staffId: g.staffId, customerId, start: `2026-03-24T${hour}:00:00Z` });
  assertUnverifiedRefusal(await call(ctx.app, customerUser, 'POST', `${g.base}/reservations`, body(12, own.id)));
  assert.equal((await call(ctx.app, g.owner, 'POST', `${g.base}/reservations`, body(13, g.customerId))).status, 201, 'the owner is unverified too, but books as the business');
  await verify(customerUser);
  assert.equal((await call(ctx.app, customerUser, 'POST', `${g.base}/reservations`, body(12, own.id))).status, 201);
});

test('invitations: an unverified invitee cannot join while the setting is on; the same invitation works once verified', async () => {
  const g = await createBookingFixture(ctx.app);
  await ok(ctx.app, g.owner, 'PATCH', `${g.base}/settings`, { requireVerifiedEmail: true });
  const invitee = await signUp(ctx.app, 'invitee');
  const token = await inviteToken(ctx.app, g.owner, g.tenant.id, invitee.email, 'staff');
  assertUnverifiedRefusal(await call(ctx.app, invitee, 'POST', '/api/invitations/accept', { token }));
  await verify(invitee);
  const joined = await call<{ role: string }>(ctx.app, invitee, 'POST', '/api/invitations/accept', { token });
  assert.equal(joined.status, 200);
  assert.equal(joined.body.role, 'staff');
});
