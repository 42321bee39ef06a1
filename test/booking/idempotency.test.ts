import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { canonicalJson, decideExisting, isReplayable, parseIdempotencyKey, requestFingerprint } from '../../src/idempotency/idempotency.core.js';
import { bearer, createTestApp, type SignedInUser, type TestContext } from '../helpers/app.js';
import { createMailbox } from '../helpers/doubles.js';
import { createBookingFixture, createTestClock, ok, type BookingFixture } from './helpers.js';

/**
 * Idempotency-Key (draft-ietf-httpapi-idempotency-key-header-06 §2, Stripe's semantics; ADR
 * 0018): same key + same body replays the first answer with `Idempotent-Replayed: true`; another
 * body is 422; concurrent duplicates create once; keys are per principal or guest email and
 * live 24 h (injected clock).
 */
const BASE_TIME = Date.parse('2026-03-23T06:00:00Z');
const clock = createTestClock(BASE_TIME);
let ctx: TestContext;
let f: BookingFixture;

before(async () => {
  ctx = await createTestApp({ deps: { clock, mail: createMailbox() }, env: { GUEST_BOOKINGS_PER_EMAIL_PER_HOUR: '0', GUEST_BOOKINGS_PER_IP_PER_HOUR: '0' } });
  f = await createBookingFixture(ctx.app);
});
after(async () => ctx.close());

let keyNo = 0;
const newKey = () => `key-${process.pid}-${++keyNo}-${Math.random().toString(36).slice(2)}`;

async function post(url: string, body: Record<string, unknown>, opts: { user?: SignedInUser | null; key?: string } = {}) {
  const res = await ctx.app.inject({
    method: 'POST',
    url,
    headers: { ...(opts.user ? bearer(opts.user.accessToken) : {}), ...(opts.key !== undefined ? { 'idempotency-key': opts.key } : {}) },
    payload: body,
  });
  return { status: res.statusCode, body: res.body, json: res.body ? (res.json() as Record<string, unknown>) : {}, replayed: res.headers['idempotent-replayed'] };
}

async function countReservations(fx: BookingFixture, day: string): Promise<number> {
  const page = await ok<{ items: unknown[] }>(ctx.app, fx.owner, 'GET', `${fx.base}/reservations?from=${day}T00:00:00Z&to=${day}T23:59:59Z&limit=100`);
  return page.items.length;
}

const tenantBooking = (start: string) => ({ serviceId: f.serviceId, staffId: f.staffId, customerId: f.customerId, start });

describe('Idempotency-Key on POST …/reservations (tenant)', () => {
  test('same key + same body: the first answer (status and body) is replayed; one reservation', async () => {
    const key = newKey();
    const first = await post(`${f.base}/reservations`, tenantBooking('2026-03-24T09:00:00Z'), { user: f.owner, key });
    assert.equal(first.status, 201, first.body);
    assert.equal(first.replayed, undefined);
    // Same body with keys in another order is the same request (canonical JSON).
    const { start, ...rest } = tenantBooking('2026-03-24T09:00:00Z');
    const again = await post(`${f.base}/reservations`, { start, ...rest }, { user: f.owner, key });
    assert.equal(again.status, 201);
    assert.equal(again.body, first.body);
    assert.equal(again.replayed, 'true');
    assert.equal(await countReservations(f, '2026-03-24'), 1);
    // Without the key, the retry is a second booking attempt and loses to the first.
    assert.equal((await post(`${f.base}/reservations`, tenantBooking('2026-03-24T09:00:00Z'), { user: f.owner })).status, 409);
  });

  test('same key + different body: 422 idempotency_key_reused, nothing created', async () => {
    const key = newKey();
    assert.equal((await post(`${f.base}/reservations`, tenantBooking('2026-03-24T11:00:00Z'), { user: f.owner, key })).status, 201);
    const other = await post(`${f.base}/reservations`, tenantBooking('2026-03-24T12:00:00Z'), { user: f.owner, key });
    assert.equal(other.status, 422);
    assert.equal(other.json.code, 'idempotency_key_reused');
    assert.ok(!other.body.includes(key), 'the key is not echoed');
    const otherRoute = await post(`${f.base}/customers`, { name: 'x', email: `x-${keyNo}@example.test` }, { user: f.owner, key });
    assert.equal(otherRoute.status, 422, 'another route is another request');
    assert.equal(await countReservations(f, '2026-03-24'), 2);
  });

  test('10 concurrent duplicates create exactly one reservation; every answer is the creation, its replay or 409 in progress', async () => {
    const key = newKey();
    const body = tenantBooking('2026-03-25T09:00:00Z');
    const answers = await Promise.all(Array.from({ length: 10 }, () => post(`${f.base}/reservations`, body, { user: f.owner, key })));
    assert.equal(await countReservations(f, '2026-03-25'), 1);
    const created = answers.filter((a) => a.status === 201);
    assert.ok(created.length >= 1);
    assert.equal(new Set(created.map((a) => (a.json as { id: string }).id)).size, 1, 'every 201 names the same reservation');
    for (const a of answers) {
      assert.ok(a.status === 201 || (a.status === 409 && a.json.code === 'idempotency_in_progress'), `${a.status} ${a.body}`);
    }
    const after = await post(`${f.base}/reservations`, body, { user: f.owner, key });
    assert.deepEqual([after.status, after.replayed], [201, 'true']);
  });

  test('keys are per principal: another user’s identical key is independent', async () => {
    const g = await createBookingFixture(ctx.app);
    const key = newKey();
    const mine = await post(`${f.base}/customers`, { name: 'Mine', email: `mine-${keyNo}@example.test` }, { user: f.owner, key });
    const theirs = await post(`${g.base}/customers`, { name: 'Theirs', email: `theirs-${keyNo}@example.test` }, { user: g.owner, key });
    assert.deepEqual([mine.status, theirs.status], [201, 201]);
    assert.equal(theirs.replayed, undefined);
    assert.notEqual((mine.json as { id: string }).id, (theirs.json as { id: string }).id);
  });

  test('deterministic 4xx are replayed; a 409 conflict is not kept (the retry is judged afresh)', async () => {
    const key = newKey();
    const offGrid = tenantBooking('2026-03-24T09:10:00Z');
    const a = await post(`${f.base}/reservations`, offGrid, { user: f.owner, key });
    const b = await post(`${f.base}/reservations`, offGrid, { user: f.owner, key });
    assert.deepEqual([a.status, b.status, b.replayed], [422, 422, 'true']);
    assert.equal(b.body, a.body);

    const taken = tenantBooking('2026-03-24T09:00:00Z'); // booked by the first test
    const key2 = newKey();
    const c = await post(`${f.base}/reservations`, taken, { user: f.owner, key: key2 });
    const d = await post(`${f.base}/reservations`, taken, { user: f.owner, key: key2 });
    assert.deepEqual([c.status, d.status, d.replayed], [409, 409, undefined]);
  });

  test('malformed keys are 400 before anything runs', async () => {
    for (const key of ['', 'a'.repeat(256), 'with space', 'ümlaut']) {
      const res = await ctx.app.inject({
        method: 'POST',
        url: `${f.base}/reservations`,
        headers: { ...bearer(f.owner.accessToken), 'idempotency-key': Buffer.from(key, 'utf8').toString('latin1') },
        payload: tenantBooking('2026-03-26T09:00:00Z'),
      });
      assert.equal(res.statusCode, 400, JSON.stringify(key));
    }
    assert.equal(await countReservations(f, '2026-03-26'), 0);
  });
});

describe('Idempotency-Key on guest booking', () => {
  const guestBody = (email: string, start: string) => ({ serviceId: f.serviceId, staffId: f.staffId, start, customer: { name: 'G', email } });

  test('scoped per guest email; kept 24 h, then the key is free again (injected clock)', async () => {
    const url = `/api/public/tenants/${f.tenant.slug}/reservations`;
    const key = newKey();
    const first = await post(url, guestBody('idem-a@guests.example.test', '2026-03-30T09:00:00Z'), { key });
    assert.equal(first.status, 201, first.body);
    const replay = await post(url, guestBody('IDEM-A@guests.example.test', '2026-03-30T09:00:00Z'), { key });
    assert.equal(replay.status, 422, 'the body differs (email spelling): another request under the same guest scope');
    const same = await post(url, guestBody('idem-a@guests.example.test', '2026-03-30T09:00:00Z'), { key });
    assert.deepEqual([same.status, same.replayed, same.body], [201, 'true', first.body]);
    const otherGuest = await post(url, guestBody('idem-b@guests.example.test', '2026-03-30T10:00:00Z'), { key });
    assert.deepEqual([otherGuest.status, otherGuest.replayed], [201, undefined]);

    clock.set(BASE_TIME + 23 * 3600_000);
    try {
      const within = await post(url, guestBody('idem-a@guests.example.test', '2026-03-30T11:00:00Z'), { key });
      assert.equal(within.status, 422, 'still kept after 23 h');
      clock.set(BASE_TIME + 24 * 3600_000 + 1000);
      const later = await post(url, guestBody('idem-a@guests.example.test', '2026-03-30T11:00:00Z'), { key });
      assert.deepEqual([later.status, later.replayed], [201, undefined], later.body);
    } finally {
      clock.set(BASE_TIME);
    }
  });
});

describe('idempotency core', () => {
  test('keys: 1–255 visible ASCII, one header', () => {
    assert.deepEqual(parseIdempotencyKey(undefined), { kind: 'absent' });
    assert.deepEqual(parseIdempotencyKey('abc-123_"x"'), { kind: 'valid', key: 'abc-123_"x"' });
    for (const bad of ['', ' ', 'a b', 'x'.repeat(256), '\u00e9', ['a', 'b']]) assert.equal(parseIdempotencyKey(bad).kind, 'invalid', JSON.stringify(bad));
  });
  test('fingerprint: key order does not matter, method/path/values do', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } }), '{"a":{"c":null,"d":[2,{"e":0,"f":1}]},"b":1}');
    const fp = requestFingerprint('POST', '/x', { a: 1, b: 2 });
    assert.ok(fp.equals(requestFingerprint('post', '/x', { b: 2, a: 1 })));
    assert.ok(!fp.equals(requestFingerprint('POST', '/y', { a: 1, b: 2 })));
    assert.ok(!fp.equals(requestFingerprint('POST', '/x', { a: 1, b: '2' })));
  });
  test('what is kept: 2xx and deterministic 4xx, never 5xx, 401/403/409/429', () => {
    assert.deepEqual([200, 201, 400, 404, 422].map(isReplayable), [true, true, true, true, true]);
    assert.deepEqual([401, 403, 409, 429, 500, 503].map(isReplayable), [false, false, false, false, false, false]);
  });
  test('an existing row: replay, reused, in progress, or claim again once expired / lease lapsed', () => {
    const fp = Buffer.from('a');
    const row = { fingerprint: fp, status: 'completed' as const, responseStatus: 201, responseBody: '{}', lockedUntil: 10, expiresAt: 100 };
    assert.deepEqual(decideExisting(row, fp, 50), { kind: 'replay', status: 201, body: '{}' });
    assert.deepEqual(decideExisting(row, Buffer.from('b'), 50), { kind: 'reused' });
    assert.deepEqual(decideExisting(row, fp, 100), { kind: 'retry' });
    const running = { ...row, status: 'in_progress' as const, responseStatus: null, responseBody: null };
    assert.deepEqual(decideExisting(running, fp, 5), { kind: 'in_progress' });
    assert.deepEqual(decideExisting(running, fp, 10), { kind: 'retry' });
    assert.deepEqual(decideExisting(null, fp, 5), { kind: 'retry' });
  });
});
