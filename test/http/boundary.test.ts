import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { toAppError } from '../../src/http/error-handler.js';
import { addMember, bearer, createTestApp, errorBody, signUp, TEST_PASSWORD, type TestContext } from '../helpers/app.js';
import { createBookingFixture, ok, type BookingFixture } from '../booking/helpers.js';

/**
 * Issue 12, items 3 and 7 and the strict-body item: what a client sends is checked where it
 * enters, so nothing reaches the database as a 500 and no second spelling of an id names a row.
 */
describe('the boundary: ids, NUL, instants, strict bodies', () => {
  let ctx: TestContext;
  let f: BookingFixture;
  before(async () => {
    ctx = await createTestApp();
    f = await createBookingFixture(ctx.app);
  });
  after(() => ctx.close());

  function assertClientError(res: LightMyRequestResponse, label: string, statuses: number[] = [400]): void {
    assert.ok(statuses.includes(res.statusCode), `${label}: ${res.statusCode} ${res.body}`);
    const body = errorBody(res);
    assert.equal(body.code, body.error, label);
    assert.equal(body.requestId, res.headers['x-request-id'], label);
  }

  const secret = 'A'.repeat(43);
  const notUuid = 'a'.repeat(36);
  const movedHyphens = (id: string) => {
    const hex = id.replace(/-/g, '');
    return `${hex.slice(0, 9)}-${hex.slice(9, 13)}-${hex.slice(13, 17)}-${hex.slice(17, 21)}-${hex.slice(21)}`.slice(0, 36);
  };

  test('token ids that are not canonical UUIDs are 401 / 4xx, never 500 (rt_, mfa_, pr_, inv_, boka_sk_)', async () => {
    for (const id of [notUuid, '-'.repeat(36), crypto.randomUUID().toUpperCase()]) {
      const key = `boka_sk_${id}.${secret}`;
      assertClientError(await ctx.app.inject({ url: `${f.base}/services`, headers: { 'x-api-key': key } }), `api key ${id}`, [401]);
      assertClientError(await ctx.app.inject({ url: `${f.base}/services`, headers: bearer(key) }), `bearer api key ${id}`, [401]);
      const posts: Array<[string, Record<string, string>]> = [
        ['/api/auth/refresh', { refreshToken: `rt_${id}.${secret}` }],
        ['/api/auth/mfa/verify', { challengeToken: `mfa_${id}.${secret}`, code: '123456' }],
        ['/api/auth/password/reset', { token: `pr_${id}.${secret}`, newPassword: TEST_PASSWORD }],
      ];
      for (const [url, payload] of posts) assertClientError(await ctx.app.inject({ method: 'POST', url, payload }), url, [400, 401]);
      const accept = await ctx.app.inject({ method: 'POST', url: '/api/invitations/accept', headers: bearer(f.owner.accessToken), payload: { token: `inv_${id}.${secret}` } });
      assertClientError(accept, 'invitation accept', [400, 401, 404]);
    }
  });

  test('a revoked API key with its hyphens moved is 401 (only the canonical id names the row)', async () => {
    const created = await ok<{ id: string; key: string }>(ctx.app, f.owner, 'POST', `${f.base}/api-keys`, { name: 'ci', permissions: ['services.read'] });
    const [prefixAndId, keySecret] = created.key.split('.');
    const id = prefixAndId!.slice('boka_sk_'.length);
    const moved = `boka_sk_${movedHyphens(id)}.${keySecret}`;
    assert.notEqual(moved, created.key);
    assert.equal((await ctx.app.inject({ url: `${f.base}/services`, headers: { 'x-api-key': created.key } })).statusCode, 200);
    assert.equal((await ctx.app.inject({ method: 'DELETE', url: `${f.base}/api-keys/${created.id}`, headers: bearer(f.owner.accessToken) })).statusCode, 204);
    assertClientError(await ctx.app.inject({ url: `${f.base}/services`, headers: { 'x-api-key': moved } }), 'moved hyphens', [401]);
    assertClientError(await ctx.app.inject({ url: `${f.base}/services`, headers: { 'x-api-key': `boka_sk_${id.toUpperCase()}.${keySecret}` } }), 'upper case', [401]);
  });

  test('an upper-case tenant id is refused, so a removed member is refused at once (not after the cache TTL)', async () => {
    const member = await signUp(ctx.app, 'removed');
    await addMember(ctx.app, f.owner, f.tenant.id, member, 'staff');
    const upper = `/api/tenants/${f.tenant.id.toUpperCase()}/customers`;
    assert.equal((await ctx.app.inject({ url: `${f.base}/customers`, headers: bearer(member.accessToken) })).statusCode, 200);
    // Warm whatever an upper-case spelling could cache, then remove the member (with the upper-case user id too).
    await ctx.app.inject({ url: upper, headers: bearer(member.accessToken) });
    const badRemove = await ctx.app.inject({ method: 'DELETE', url: `${f.base}/members/${member.id.toUpperCase()}`, headers: bearer(f.owner.accessToken) });
    assertClientError(badRemove, 'upper-case member id', [404]);
    const remove = await ctx.app.inject({ method: 'DELETE', url: `${f.base}/members/${member.id}`, headers: bearer(f.owner.accessToken) });
    assert.equal(remove.statusCode, 204, remove.body);
    for (const url of [upper, `${f.base}/customers`]) {
      const res = await ctx.app.inject({ url, headers: bearer(member.accessToken) });
      assertClientError(res, url, [403, 404]);
    }
    // The owner, too, must use the canonical spelling.
    assertClientError(await ctx.app.inject({ url: upper, headers: bearer(f.owner.accessToken) }), 'owner upper case', [404]);
  });

  test('non-canonical ids in paths are 404 and in bodies and queries 400 (urn:uuid:, upper case)', async () => {
    const urn = `urn:uuid:${f.serviceId}`;
    assertClientError(await ctx.app.inject({ url: `${f.base}/services/${encodeURIComponent(urn)}`, headers: bearer(f.owner.accessToken) }), 'urn path', [404]);
    assertClientError(await ctx.app.inject({ url: `${f.base}/services/${f.serviceId.toUpperCase()}`, headers: bearer(f.owner.accessToken) }), 'upper path', [404]);
    const start = '2026-03-24T10:00:00Z';
    for (const serviceId of [urn, f.serviceId.toUpperCase(), `{${f.serviceId}}`]) {
      const res = await ctx.app.inject({
        method: 'POST',
        url: `${f.base}/reservations`,
        headers: bearer(f.owner.accessToken),
        payload: { serviceId, staffId: f.staffId, customerId: f.customerId, start },
      });
      assertClientError(res, `body ${serviceId}`);
      const q = await ctx.app.inject({ url: `${f.base}/reservations?staffId=${encodeURIComponent(serviceId)}`, headers: bearer(f.owner.accessToken) });
      assertClientError(q, `query ${serviceId}`);
    }
  });

  test('a NUL character in a body, a query, a path or a key is 400/404, never 500', async () => {
    const h = bearer(f.owner.accessToken);
    const cases: Array<[string, LightMyRequestResponse, number[]]> = [
      ['body', await ctx.app.inject({ method: 'POST', url: `${f.base}/customers`, headers: h, payload: { name: 'a\u0000b' } }), [400]],
      ['nested', await ctx.app.inject({ method: 'PATCH', url: `${f.base}/services/${f.serviceId}`, headers: h, payload: { name: 'x\u0000' } }), [400]],
      ['key', await ctx.app.inject({ method: 'POST', url: `${f.base}/customers`, headers: h, payload: { 'na\u0000me': 'x' } }), [400]],
      ['signup', await ctx.app.inject({ method: 'POST', url: '/api/auth/signup', payload: { email: 'nul@example.test', password: TEST_PASSWORD, name: 'a\u0000' } }), [400]],
      ['login', await ctx.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: 'a\u0000@example.test', password: TEST_PASSWORD } }), [400]],
      ['query', await ctx.app.inject({ url: `${f.base}/customers?cursor=%00`, headers: h }), [400]],
      ['slug', await ctx.app.inject({ url: '/api/public/tenants/a%00b' }), [400, 404]],
      ['id', await ctx.app.inject({ url: `${f.base}/services/%00`, headers: h }), [404]],
    ];
    for (const [label, res, statuses] of cases) assertClientError(res, label, statuses);
  });

  test('instants: leap seconds, year 0000, years past 9999 and impossible days are 400', async () => {
    const h = bearer(f.owner.accessToken);
    for (const start of ['2026-12-31T23:59:60Z', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59-23:59', '2026-02-30T10:00:00Z', '2026-03-24T10:00:00+01', '1000-01-01T00:00:00Z']) {
      const res = await ctx.app.inject({
        method: 'POST',
        url: `${f.base}/reservations`,
        headers: h,
        payload: { serviceId: f.serviceId, staffId: f.staffId, customerId: f.customerId, start },
      });
      assertClientError(res, `reservation ${start}`);
      const q = await ctx.app.inject({ url: `${f.base}/availability?serviceId=${f.serviceId}&from=${encodeURIComponent(start)}&to=2026-03-25T00:00:00Z`, headers: h });
      assertClientError(q, `availability ${start}`);
      const key = await ctx.app.inject({ method: 'POST', url: `${f.base}/api-keys`, headers: h, payload: { name: 'k', permissions: ['services.read'], expiresAt: start } });
      assertClientError(key, `api key ${start}`);
    }
    const fine = await ctx.app.inject({ url: `${f.base}/availability?serviceId=${f.serviceId}&from=2026-03-24T00:00:00%2B01:00&to=2026-03-25T00:00:00Z`, headers: h });
    assert.equal(fine.statusCode, 200, fine.body);
  });

  test('JSON bodies are not type-coerced; query strings still are', async () => {
    const h = bearer(f.owner.accessToken);
    const service = { name: 'Cut', durationMinutes: 30, bufferMinutes: 0, priceCents: 100, currency: 'EUR' };
    const bodies: Array<[string, string, Record<string, unknown>]> = [
      ['number as email', '/api/auth/signup', { email: 42, password: TEST_PASSWORD, name: 'n' }],
      ['string as integer', `${f.base}/services`, { ...service, durationMinutes: '30' }],
      ['null as integer', `${f.base}/services`, { ...service, priceCents: null }],
      ['array as string', `${f.base}/services`, { ...service, name: ['x'] }],
      ['boolean as string', `${f.base}/customers`, { name: true }],
    ];
    for (const [label, url, payload] of bodies) {
      const res = await ctx.app.inject({ method: 'POST', url, headers: h, payload });
      assertClientError(res, label);
      assert.equal(errorBody(res).code, 'validation_error', label);
    }
    const list = await ctx.app.inject({ url: `${f.base}/services?limit=1`, headers: h });
    assert.equal(list.statusCode, 200, list.body);
    assert.equal(list.json<{ items: unknown[] }>().items.length, 1);
  });

  test('router errors (a path segment over maxParamLength, a bad percent-encoding) have the documented body', async () => {
    for (const url of [`/api/auth/sessions/${'x'.repeat(600)}`, '/api/tenants/%E0%A4%A', `/api/public/tenants/${'y'.repeat(600)}`]) {
      const res = await ctx.app.inject({ method: 'GET', url, headers: bearer(f.owner.accessToken) });
      assertClientError(res, url, [400, 404, 405]);
    }
  });

  test('safety net: SQLSTATE classes 22 and 23 map to 4xx, never 500', () => {
    const cases: Array<[string, number, string]> = [
      ['22021', 400, 'invalid_request'],
      ['22P02', 400, 'invalid_request'],
      ['22008', 400, 'invalid_request'],
      ['23505', 409, 'conflict'],
      ['23503', 409, 'conflict'],
      ['23514', 422, 'invalid_state'],
      ['23502', 400, 'validation_error'],
      ['23P01', 409, 'conflict'],
    ];
    for (const [code, status, wire] of cases) {
      const err = Object.assign(new Error(`db said ${code}`), { code });
      const mapped = toAppError(err);
      assert.equal(mapped.status, status, code);
      assert.equal(mapped.code, wire, code);
      assert.ok(!mapped.message.includes('db said'), 'the database message is not sent');
    }
    assert.equal(toAppError(Object.assign(new Error('x'), { code: '42P01' })).status, 500, 'a missing table is our bug, not the client');
  });
});
