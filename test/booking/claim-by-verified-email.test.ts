import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createEventHub } from '../../src/shared/events.js';
import { createTestApp, signUp, type TestContext } from '../helpers/app.js';
import { createMailbox, waitFor } from '../helpers/doubles.js';
import { call, createBookingFixture, createTestClock, ok } from './helpers.js';

/**
 * Issue 18 / ADR 0013: public booking claims an unlinked customer record with the same email
 * only for an account whose email is verified (booking.test.ts covers the unverified refusal).
 */
const mailbox = createMailbox();
const events = createEventHub();
const linked: Array<{ customerId: string; actorUserId: string; to: string | null }> = [];
events.on('customer.linked', (e) => linked.push(e));
let ctx: TestContext;
before(async () => {
  ctx = await createTestApp({ deps: { clock: createTestClock(), events, mail: mailbox } });
});
after(async () => ctx.close());

test('a verified account claims the unlinked customer record carrying its email', async () => {
  const g = await createBookingFixture(ctx.app);
  const user = await signUp(ctx.app, 'verified-claimer');
  const existing = await ok<{ id: string }>(ctx.app, g.owner, 'POST', `${g.base}/customers`, { name: 'Known', email: user.email.toUpperCase() });
  const url = `/api/public/tenants/${g.tenant.slug}/reservations`;
  const slot = { serviceId: g.serviceId, staffId: g.staffId, start: '2026-03-24T10:00:00Z' };

  const before = await call<{ code: string }>(ctx.app, user, 'POST', url, slot);
  assert.equal(before.status, 409, 'unverified: refused');

  const mail = await waitFor(async () => mailbox.messages.find((m) => m.to === user.email && m.text.includes('#token=ev_')));
  const token = /#token=(\S+)/.exec(mail.text)![1]!;
  assert.equal((await ctx.app.inject({ method: 'POST', url: '/api/auth/verify-email', payload: { token } })).statusCode, 204);

  const booked = await call<{ customerId: string }>(ctx.app, user, 'POST', url, slot);
  assert.equal(booked.status, 201);
  assert.equal(booked.body.customerId, existing.id);
  const record = await ok<{ userId: string | null }>(ctx.app, g.owner, 'GET', `${g.base}/customers/${existing.id}`);
  assert.equal(record.userId, user.id);
  assert.deepEqual(linked.map((e) => [e.customerId, e.actorUserId, e.to]), [[existing.id, user.id, user.id]], 'the claim is audited');
});

test('a record already linked to another account is never claimed, verified or not', async () => {
  const g = await createBookingFixture(ctx.app);
  const user = await signUp(ctx.app, 'late-claimer');
  const mail = await waitFor(async () => mailbox.messages.find((m) => m.to === user.email && m.text.includes('#token=ev_')));
  await ctx.app.inject({ method: 'POST', url: '/api/auth/verify-email', payload: { token: /#token=(\S+)/.exec(mail.text)![1]! } });
  // The owner's own customer record (fixture) is linked to the owner; give it the user's email.
  const other = await ok<{ id: string }>(ctx.app, g.owner, 'POST', `${g.base}/customers`, { name: 'Someone', email: user.email, userId: g.owner.id });
  const res = await call<{ code: string }>(ctx.app, user, 'POST', `/api/public/tenants/${g.tenant.slug}/reservations`, {
    serviceId: g.serviceId, staffId: g.staffId, start: '2026-03-24T11:00:00Z',
  });
  assert.equal(res.status, 409);
  const record = await ok<{ userId: string | null }>(ctx.app, g.owner, 'GET', `${g.base}/customers/${other.id}`);
  assert.equal(record.userId, g.owner.id);
});
