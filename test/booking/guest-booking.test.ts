import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WEBHOOK_EVENTS } from '../../src/webhooks/webhooks.core.js';
import { createTestApp, signUp, type TestContext } from '../helpers/app.js';
import { createMailbox, waitFor } from '../helpers/doubles.js';
import { call, createBookingFixture, createTestClock, ok, recordedEffects, type BookingFixture } from './helpers.js';

/**
 * Issue 17 / ADR 0018: guest booking without an account. Pending until the emailed link is
 * followed (or confirmed at once by the tenant's setting); the slot is held while pending and
 * freed when the hold lapses; per-IP and per-email budgets; one 422 for a start off the grid.
 */
type Err = { code: string; details?: { reason?: string } & Record<string, unknown> };
type Reservation = { id: string; start: string; status: string; staffId: string; customerId: string };

const clock = createTestClock(); // Monday 2026-03-23 06:00 UTC
const mailbox = createMailbox();
let ctx: TestContext;
let f: BookingFixture;

before(async () => {
  ctx = await createTestApp({
    deps: { clock, mail: mailbox },
    env: { PUBLIC_URL: 'https://book.example.test/', GUEST_BOOKINGS_PER_EMAIL_PER_HOUR: '3', GUEST_BOOKINGS_PER_IP_PER_HOUR: '0' },
  });
  f = await createBookingFixture(ctx.app);
  // Nothing delivers (no job worker): the messages stay queued where each change wrote them.
  await ok(ctx.app, f.owner, 'POST', `${f.base}/webhooks`, { url: 'http://127.0.0.1:9/hook', events: WEBHOOK_EVENTS });
});
after(async () => ctx.close());

const url = (fx = f) => `/api/public/tenants/${fx.tenant.slug}/reservations`;
let n = 0;
const guest = (label = 'guest') => ({ name: `Robin ${label}`, email: `${label}-${++n}@guests.example.test` });
const tokenIn = (text: string, page: 'manage' | 'confirm') => new RegExp(`https://book\\.example\\.test/booking/${page}#token=(mng_[^\\s"<]+)`).exec(text)?.[1];
const manage = (action: string, payload: Record<string, unknown>) => call<{ can?: unknown; reservation?: { status: string } } & Err>(ctx.app, null, 'POST', `/api/public/manage/${action}`, payload);
const freeSlots = async (date: string) =>
  (await ok<{ slots: Array<{ start: string }> }>(ctx.app, null, 'GET', `/api/public/tenants/${f.tenant.slug}/availability?serviceId=${f.serviceId}&from=${date}T00:00:00Z&to=${date}T23:59:00Z&limit=500`)).slots.map((s) => s.start);

describe('guest booking', () => {
  test('books without a token: pending, slot held, one mail with confirm + manage links (text and HTML)', async () => {
    const who = guest();
    const res = await call<Reservation & Err>(ctx.app, null, 'POST', url(), { serviceId: f.serviceId, start: '2026-03-24T09:00:00Z', customer: { ...who, phone: '+49 30 123' } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.status, 'pending');
    assert.equal(res.body.staffId, f.staffId);
    assert.ok(!JSON.stringify(res.body).includes('mng_'), 'the token is only in the mail');
    assert.ok(!(await freeSlots('2026-03-24')).includes('2026-03-24T09:00:00.000Z'), 'the pending booking holds its slot');

    const mail = mailbox.last(who.email);
    assert.ok(mail, 'a mail went to the guest');
    const confirmToken = tokenIn(mail.text, 'confirm');
    const manageToken = tokenIn(mail.text, 'manage');
    assert.ok(confirmToken && manageToken && confirmToken === manageToken, mail.text);
    assert.ok(mail.html?.includes(`href="https://book.example.test/booking/manage#token=${manageToken}"`), 'HTML alternative with the same link');

    const view = await manage('reservation', { token: manageToken });
    assert.equal(view.status, 200);
    assert.deepEqual(view.body.can, { confirm: true, cancel: true, reschedule: true });
    const confirmed = await manage('confirm', { token: confirmToken });
    assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
    assert.equal(confirmed.body.reservation?.status, 'confirmed');
    const record = await ok<{ status: string }>(ctx.app, f.owner, 'GET', `${f.base}/reservations/${res.body.id}`);
    assert.equal(record.status, 'confirmed');
    assert.equal((await manage('confirm', { token: confirmToken })).status, 200, 'following the link twice is fine');
    // Recorded once each, with no actor: the guest mail, not the customer mail, answers the
    // booking; the confirmation mails the customer (docs/booking.md, "Who gets what, once").
    assert.deepEqual(await recordedEffects(ctx.database.db, res.body.id), [
      { job: 'booking.guest_mail', kind: 'booking' },
      { job: 'reservation.mail', kind: 'confirmed' },
      { job: 'webhook.deliver', event: 'reservation.confirmed', data: { reservationId: res.body.id, from: 'pending', to: 'confirmed' } },
      {
        job: 'webhook.deliver', event: 'reservation.created',
        data: { reservationId: res.body.id, staffId: f.staffId, customerId: res.body.customerId, start: '2026-03-24T09:00:00.000Z', end: '2026-03-24T09:30:00.000Z', channel: 'public' },
      },
    ]);
  });

  test('the same email books again into the same customer record, whose name is not overwritten', async () => {
    const who = guest('repeat');
    const a = await call<Reservation>(ctx.app, null, 'POST', url(), { serviceId: f.serviceId, start: '2026-03-24T10:00:00Z', customer: who });
    const b = await call<Reservation>(ctx.app, null, 'POST', url(), { serviceId: f.serviceId, start: '2026-03-24T11:00:00Z', customer: { ...who, name: 'Someone Else', email: who.email.toUpperCase() } });
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);
    assert.equal(a.body.customerId, b.body.customerId);
    const c = await ok<{ name: string }>(ctx.app, f.owner, 'GET', `${f.base}/customers/${a.body.customerId}`);
    assert.equal(c.name, who.name);
  });

  test('an expired hold is free again: availability shows it, another guest books it, the first cannot confirm', async () => {
    const first = guest('slow');
    const a = await call<Reservation>(ctx.app, null, 'POST', url(), { serviceId: f.serviceId, start: '2026-03-25T09:00:00Z', customer: first });
    assert.equal(a.status, 201);
    const token = tokenIn(mailbox.last(first.email)!.text, 'confirm')!;
    const second = guest('fast');
    const early = await call<Err>(ctx.app, null, 'POST', url(), { serviceId: f.serviceId, start: '2026-03-25T09:00:00Z', customer: second });
    assert.equal(early.status, 409, 'held while pending');

    clock.set(clock.now() + 31 * 60_000); // default hold: 30 minutes
    try {
      assert.ok((await freeSlots('2026-03-25')).includes('2026-03-25T09:00:00.000Z'), 'a lapsed hold is free');
      const b = await call<Reservation & Err>(ctx.app, null, 'POST', url(), { serviceId: f.serviceId, start: '2026-03-25T09:00:00Z', customer: second });
      assert.equal(b.status, 201, JSON.stringify(b.body));
      const late = await manage('confirm', { token });
      assert.equal(late.status, 422);
      assert.equal(late.body.code, 'invalid_state');
    } finally {
      clock.set(Date.parse('2026-03-23T06:00:00Z'));
    }
    // (checked with the clock back: the owner's access token lives 10 minutes)
    const old = await ok<{ status: string }>(ctx.app, f.owner, 'GET', `${f.base}/reservations/${a.body.id}`);
    assert.equal(old.status, 'cancelled', 'the lapsed hold was released in the booking transaction');
  });

  test('guestAutoConfirm: confirmed at once, the mail has no confirm link', async () => {
    const g = await createBookingFixture(ctx.app);
    await ok(ctx.app, g.owner, 'PATCH', `${g.base}/settings`, { guestAutoConfirm: true, guestHoldMinutes: 10 });
    const who = guest('auto');
    const res = await call<Reservation>(ctx.app, null, 'POST', url(g), { serviceId: g.serviceId, start: '2026-03-24T09:00:00Z', customer: who });
    assert.equal(res.status, 201);
    assert.equal(res.body.status, 'confirmed');
    const mail = mailbox.last(who.email)!;
    assert.equal(tokenIn(mail.text, 'confirm'), undefined);
    assert.ok(tokenIn(mail.text, 'manage'));
  });

  test('per-email budget: the fourth booking of one address within the hour is 429', async () => {
    const who = guest('budget');
    const starts = ['2026-03-26T09:00:00Z', '2026-03-26T10:00:00Z', '2026-03-26T11:00:00Z', '2026-03-26T12:00:00Z'];
    const statuses = [];
    for (const start of starts) statuses.push((await call(ctx.app, null, 'POST', url(), { serviceId: f.serviceId, start, customer: who })).status);
    assert.deepEqual(statuses, [201, 201, 201, 429]);
  });

  test('strict input: without a token the customer is required; a signed-in user may not send one', async () => {
    const missing = await call<Err>(ctx.app, null, 'POST', url(), { serviceId: f.serviceId, start: '2026-03-27T09:00:00Z' });
    assert.equal(missing.status, 400);
    const badEmail = await call<Err>(ctx.app, null, 'POST', url(), { serviceId: f.serviceId, start: '2026-03-27T09:00:00Z', customer: { name: 'x', email: 'nope' } });
    assert.equal(badEmail.status, 400);
    const extra = await call<Err>(ctx.app, null, 'POST', url(), { serviceId: f.serviceId, start: '2026-03-27T09:00:00Z', customer: { ...guest(), admin: true } });
    assert.equal(extra.status, 400);
    const user = await signUp(ctx.app, 'both');
    const both = await call<Err>(ctx.app, user, 'POST', url(), { serviceId: f.serviceId, start: '2026-03-27T09:00:00Z', customer: guest() });
    assert.equal(both.status, 400);
    const badToken = await ctx.app.inject({ method: 'POST', url: url(), headers: { authorization: 'Bearer nope' }, payload: { serviceId: f.serviceId, start: '2026-03-27T09:00:00Z' } });
    assert.equal(badToken.statusCode, 401, 'a credential that is sent is checked');
  });
});

describe('a start off the slot grid', () => {
  test('is one 422 slot_unavailable not_aligned with or without staffId, for guests and accounts', async () => {
    const user = await signUp(ctx.app, 'grid');
    const start = '2026-03-24T09:10:00Z';
    const answers = [
      await call<Err>(ctx.app, null, 'POST', url(), { serviceId: f.serviceId, start, customer: guest() }),
      await call<Err>(ctx.app, null, 'POST', url(), { serviceId: f.serviceId, staffId: f.staffId, start, customer: guest() }),
      await call<Err>(ctx.app, user, 'POST', url(), { serviceId: f.serviceId, start }),
      await call<Err>(ctx.app, user, 'POST', url(), { serviceId: f.serviceId, staffId: f.staffId, start }),
    ];
    assert.deepEqual(answers.map((a) => [a.status, a.body.code, a.body.details?.reason]), Array(4).fill([422, 'slot_unavailable', 'not_aligned']));
  });
});

describe('an account created later', () => {
  test('with a verified email claims the guest record and sees the earlier booking', async () => {
    const g = await createBookingFixture(ctx.app);
    const user = await signUp(ctx.app, 'later');
    const earlier = await call<Reservation>(ctx.app, null, 'POST', url(g), { serviceId: g.serviceId, start: '2026-03-24T09:00:00Z', customer: { name: 'Later', email: user.email } });
    assert.equal(earlier.status, 201);
    const mail = await waitFor(async () => mailbox.messages.find((m) => m.to === user.email && m.text.includes('#token=ev_')));
    assert.equal((await ctx.app.inject({ method: 'POST', url: '/api/auth/verify-email', payload: { token: /#token=(\S+)/.exec(mail.text)![1]! } })).statusCode, 204);
    const next = await call<Reservation>(ctx.app, user, 'POST', url(g), { serviceId: g.serviceId, start: '2026-03-24T10:00:00Z' });
    assert.equal(next.status, 201);
    assert.equal(next.body.customerId, earlier.body.customerId);
    const mine = await ok<{ items: Array<{ id: string }> }>(ctx.app, user, 'GET', `${g.base}/reservations`);
    assert.deepEqual(mine.items.map((r) => r.id).sort(), [earlier.body.id, next.body.id].sort());
  });
});
