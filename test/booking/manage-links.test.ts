import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createTestApp, signUp, type TestContext } from '../helpers/app.js';
import { createMailbox } from '../helpers/doubles.js';
import { call, createBookingFixture, createTestClock, ok, type BookingFixture } from './helpers.js';

/**
 * Issue 17 / ADR 0018: manage links (view any number of times until the booking ends; cancel and
 * reschedule use the link up, a reschedule mails a new one; tokens hashed at rest, ASVS 2.9.2 /
 * 3.5.2, never in a URL the server sees, ASVS 3.1.1) and reschedule atomicity.
 */
type Err = { code: string; details?: { reason?: string } & Record<string, unknown> };
type View = { reservation: { id: string; start: string; status: string }; can: { confirm: boolean; cancel: boolean; reschedule: boolean } };
type Reservation = { id: string; start: string; status: string; customerId: string };

const BASE_TIME = Date.parse('2026-03-23T06:00:00Z');
const clock = createTestClock(BASE_TIME);
const mailbox = createMailbox();
let ctx: TestContext;
let f: BookingFixture;
let n = 0;

before(async () => {
  ctx = await createTestApp({ deps: { clock, mail: mailbox }, env: { PUBLIC_URL: 'https://book.example.test', GUEST_BOOKINGS_PER_EMAIL_PER_HOUR: '0', GUEST_BOOKINGS_PER_IP_PER_HOUR: '0' } });
  f = await createBookingFixture(ctx.app);
});
after(async () => ctx.close());

const manage = <T = View>(action: string, payload: Record<string, unknown>) => call<T & Err>(ctx.app, null, 'POST', `/api/public/manage/${action}`, payload);
const lastToken = (email: string) => /booking\/manage#token=(mng_\S+)/.exec(mailbox.last(email)!.text)![1]!;

async function guestBooking(start: string, fx = f): Promise<{ id: string; token: string; email: string }> {
  const email = `manage-${++n}@guests.example.test`;
  const res = await call<Reservation & Err>(ctx.app, null, 'POST', `/api/public/tenants/${fx.tenant.slug}/reservations`, {
    serviceId: fx.serviceId, staffId: fx.staffId, start, customer: { name: 'Guest', email },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { id: res.body.id, token: lastToken(email), email };
}

async function owner<T>(path: string): Promise<T> {
  return ok<T>(ctx.app, f.owner, 'GET', `${f.base}${path}`);
}

describe('manage links', () => {
  test('view any number of times; cancel uses the link up; the slot is free again', async () => {
    const b = await guestBooking('2026-03-24T09:00:00Z');
    for (let i = 0; i < 3; i++) assert.equal((await manage('reservation', { token: b.token })).status, 200);
    const cancelled = await manage('cancel', { token: b.token });
    assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
    assert.equal(cancelled.body.reservation.status, 'cancelled');
    assert.deepEqual(cancelled.body.can, { confirm: false, cancel: false, reschedule: false });
    const again = await manage('cancel', { token: b.token });
    assert.deepEqual([again.status, again.body.code, again.body.details?.reason], [422, 'invalid_state', 'link_used']);
    assert.equal((await manage('reservation', { token: b.token })).status, 200, 'still viewable until the booking ends');
    assert.equal((await owner<Reservation>(`/reservations/${b.id}`)).status, 'cancelled');
    const rebook = await guestBooking('2026-03-24T09:00:00Z');
    assert.ok(rebook.id);
  });

  test('reschedule: one change, old link used up, new link mailed and working', async () => {
    const b = await guestBooking('2026-03-24T11:00:00Z');
    const moved = await manage('reschedule', { token: b.token, start: '2026-03-24T12:00:00Z' });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.equal(moved.body.reservation.start, '2026-03-24T12:00:00.000Z');
    const old = await manage('reschedule', { token: b.token, start: '2026-03-24T13:00:00Z' });
    assert.deepEqual([old.status, old.body.details?.reason], [422, 'link_used']);
    const fresh = lastToken(b.email);
    assert.notEqual(fresh, b.token);
    assert.match(mailbox.last(b.email)!.subject, /moved/);
    const view = await manage('reservation', { token: fresh });
    assert.deepEqual([view.status, view.body.reservation.start], [200, '2026-03-24T12:00:00.000Z']);
    assert.ok((await guestBooking('2026-03-24T11:00:00Z')).id, 'the old slot is free');
    const taken = await call<Err>(ctx.app, null, 'POST', `/api/public/tenants/${f.tenant.slug}/reservations`, {
      serviceId: f.serviceId, staffId: f.staffId, start: '2026-03-24T12:00:00Z', customer: { name: 'x', email: 'x@guests.example.test' },
    });
    assert.equal(taken.status, 409, 'the new slot is held');
  });

  test('a failed reschedule (off the grid) leaves the booking and the link as they were', async () => {
    const b = await guestBooking('2026-03-24T14:00:00Z');
    const bad = await manage('reschedule', { token: b.token, start: '2026-03-24T14:10:00Z' });
    assert.deepEqual([bad.status, bad.body.code, bad.body.details?.reason], [422, 'slot_unavailable', 'not_aligned']);
    const view = await manage('reservation', { token: b.token });
    assert.deepEqual([view.body.reservation.start, view.body.can.reschedule], ['2026-03-24T14:00:00.000Z', true]);
  });

  test('unknown, tampered or malformed tokens are 404 alike; none is echoed', async () => {
    const b = await guestBooking('2026-03-24T15:00:00Z');
    const tampered = b.token.slice(0, -2) + (b.token.endsWith('AA') ? 'BB' : 'AA');
    const otherId = b.token.replace(/mng_[0-9a-f-]{36}/, 'mng_00000000-0000-4000-8000-000000000000');
    for (const token of [tampered, otherId, 'mng_x.y', 'garbage', b.token.toUpperCase()]) {
      const res = await manage('reservation', { token });
      assert.equal(res.status, 404, token);
      assert.ok(!JSON.stringify(res.body).includes(token), 'the token is not echoed');
    }
    assert.equal((await manage('reservation', {})).status, 400);
    assert.equal((await manage('reservation', { token: b.token, extra: 1 })).status, 400);
  });

  test('cancellation cutoff applies to cancel and reschedule; after the end the link stops working', async () => {
    const g = await createBookingFixture(ctx.app);
    await ok(ctx.app, g.owner, 'PATCH', `${g.base}/settings`, { cancellationCutoffMinutes: 24 * 60, guestAutoConfirm: true });
    const soon = await guestBooking('2026-03-23T10:00:00Z', g); // 4 h ahead
    const c = await manage('cancel', { token: soon.token });
    assert.deepEqual([c.status, c.body.details?.reason], [422, 'cancellation_cutoff']);
    const r = await manage('reschedule', { token: soon.token, start: '2026-03-26T10:00:00Z' });
    assert.deepEqual([r.status, r.body.details?.reason], [422, 'cancellation_cutoff']);
    const v = await manage('reservation', { token: soon.token });
    assert.deepEqual(v.body.can, { confirm: false, cancel: false, reschedule: false });
    clock.set(Date.parse('2026-03-23T10:30:00Z'));
    try {
      const ended = await manage('reservation', { token: soon.token });
      assert.deepEqual([ended.status, ended.body.details?.reason], [422, 'link_expired']);
    } finally {
      clock.set(BASE_TIME);
    }
  });

  test('tokens are stored only as SHA-256 hashes', async () => {
    const b = await guestBooking('2026-03-24T16:00:00Z');
    const secret = b.token.split('.')[1]!;
    const rows = await ctx.database.db.transaction(
      (tx) => tx.query<{ secret_hash: Uint8Array }>(`SELECT secret_hash FROM manage_links WHERE reservation_id = $1`, [b.id]),
      { 'app.tenant_id': f.tenant.id },
    );
    assert.equal(rows.rows.length, 1);
    const stored = Buffer.from(rows.rows[0]!.secret_hash);
    assert.deepEqual(stored, createHash('sha256').update(secret).digest());
    assert.ok(!stored.toString('latin1').includes(secret));
  });
});

describe('reschedule atomicity', () => {
  test('two guests race to one slot: one wins, only the winner’s old slot is freed', async () => {
    const a = await guestBooking('2026-03-27T09:00:00Z');
    const b = await guestBooking('2026-03-27T10:00:00Z');
    const target = '2026-03-27T12:00:00Z';
    const results = await Promise.all([
      manage('reschedule', { token: a.token, start: target }),
      manage('reschedule', { token: b.token, start: target }),
    ]);
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 409], JSON.stringify(results.map((r) => r.body)));
    const winner = results[0]!.status === 200 ? a : b;
    const loser = winner === a ? b : a;
    const [w, l] = await Promise.all([owner<Reservation>(`/reservations/${winner.id}`), owner<Reservation>(`/reservations/${loser.id}`)]);
    assert.equal(w.start, '2026-03-27T12:00:00.000Z');
    assert.equal(l.start, loser === a ? '2026-03-27T09:00:00.000Z' : '2026-03-27T10:00:00.000Z', 'the loser keeps its slot');
    const loserView = await manage<View>('reservation', { token: loser.token });
    assert.equal(loserView.body.can.reschedule, true, 'the loser’s link was not used up');
    const day = await ok<{ slots: Array<{ start: string }> }>(ctx.app, null, 'GET', `/api/public/tenants/${f.tenant.slug}/availability?serviceId=${f.serviceId}&from=2026-03-27T08:00:00Z&to=2026-03-27T13:00:00Z`);
    const free = day.slots.map((s) => s.start);
    assert.ok(free.includes(winner === a ? '2026-03-27T09:00:00.000Z' : '2026-03-27T10:00:00.000Z'), 'the winner’s old slot is free');
    assert.ok(!free.includes(l.start), 'the loser’s slot is still held');
    assert.ok(!free.includes('2026-03-27T12:00:00.000Z'));
  });

  test('a customer account reschedules its own booking (PATCH {start}) before the cutoff; races resolve to one', async () => {
    const g = await createBookingFixture(ctx.app);
    const u1 = await signUp(ctx.app, 'resched-1');
    const u2 = await signUp(ctx.app, 'resched-2');
    const slug = `/api/public/tenants/${g.tenant.slug}/reservations`;
    const r1 = await ok<Reservation>(ctx.app, u1, 'POST', slug, { serviceId: g.serviceId, start: '2026-03-28T09:00:00Z' });
    const r2 = await ok<Reservation>(ctx.app, u2, 'POST', slug, { serviceId: g.serviceId, start: '2026-03-28T10:00:00Z' });
    const results = await Promise.all([
      call<Err>(ctx.app, u1, 'PATCH', `${g.base}/reservations/${r1.id}`, { start: '2026-03-28T13:00:00Z' }),
      call<Err>(ctx.app, u2, 'PATCH', `${g.base}/reservations/${r2.id}`, { start: '2026-03-28T13:00:00Z' }),
    ]);
    assert.deepEqual(results.map((r) => r.status).sort(), [200, 409], JSON.stringify(results.map((r) => r.body)));
    const list = await ok<{ items: Reservation[] }>(ctx.app, g.owner, 'GET', `${g.base}/reservations?from=2026-03-28T00:00:00Z&to=2026-03-29T00:00:00Z`);
    assert.deepEqual(list.items.map((r) => r.start).sort(), results[0]!.status === 200
      ? ['2026-03-28T10:00:00.000Z', '2026-03-28T13:00:00.000Z']
      : ['2026-03-28T09:00:00.000Z', '2026-03-28T13:00:00.000Z']);

    await ok(ctx.app, g.owner, 'PATCH', `${g.base}/settings`, { cancellationCutoffMinutes: 7 * 24 * 60 });
    const late = await call<Err>(ctx.app, u1, 'PATCH', `${g.base}/reservations/${r1.id}`, { start: '2026-03-28T15:00:00Z' });
    assert.deepEqual([late.status, late.body.details?.reason], [422, 'cancellation_cutoff']);
  });
});
