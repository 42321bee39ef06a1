import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bearer, createTenant, createTestApp, errorBody, signUp, type SignedInUser, type TestContext } from '../helpers/app.js';

/** Nothing a client sends yields a 5xx; every error has the documented shape (docs/errors.md). */
describe('bad input', () => {
  let ctx: TestContext;
  let user: SignedInUser;
  let tenantId: string;
  before(async () => {
    ctx = await createTestApp();
    user = await signUp(ctx.app, 'bad');
    tenantId = (await createTenant(ctx.app, user)).id;
  });
  after(() => ctx.close());

  function assertErrorShape(res: { statusCode: number; headers: Record<string, unknown>; json: () => unknown }, status: number, code: string) {
    assert.equal(res.statusCode, status);
    const body = res.json() as Record<string, unknown>;
    assert.equal(body.error, code);
    assert.equal(body.code, code);
    assert.equal(typeof body.message, 'string');
    assert.equal(body.requestId, res.headers['x-request-id']);
    assert.ok(!Number.isNaN(Date.parse(body.timestamp as string)));
  }

  test('malformed JSON is 400 invalid_request', async () => {
    const res = await ctx.app.inject({ method: 'POST', url: '/api/auth/login', headers: { 'content-type': 'application/json' }, payload: '{"email": ' });
    assertErrorShape(res, 400, 'invalid_request');
  });

  test('an empty JSON body and a wrong content type are 400 invalid_request', async () => {
    const empty = await ctx.app.inject({ method: 'POST', url: '/api/auth/login', headers: { 'content-type': 'application/json' }, payload: '' });
    assertErrorShape(empty, 400, 'invalid_request');
    const xml = await ctx.app.inject({ method: 'POST', url: '/api/auth/login', headers: { 'content-type': 'application/xml' }, payload: '<a/>' });
    assertErrorShape(xml, 400, 'invalid_request');
  });

  test('wrong types, missing and unknown fields are 400 validation_error listing each field', async () => {
    const res = await ctx.app.inject({ method: 'POST', url: '/api/auth/signup', payload: { email: 42, password: ['x'], extra: true } });
    assertErrorShape(res, 400, 'validation_error');
    const fields = (errorBody(res).details as Array<{ field: string }>).map((d) => d.field);
    assert.ok(fields.length >= 1);
    const unknown = await ctx.app.inject({
      method: 'POST',
      url: '/api/tenants',
      headers: bearer(user.accessToken),
      payload: { name: 'n', slug: 'valid-slug', tenantId: 'x' },
    });
    assertErrorShape(unknown, 400, 'validation_error');
    assert.deepEqual(errorBody(unknown).details, [{ field: 'tenantId', in: 'body', message: 'is not an allowed field' }]);
    const missing = await ctx.app.inject({ method: 'POST', url: '/api/tenants', headers: bearer(user.accessToken), payload: { name: 'n' } });
    assertErrorShape(missing, 400, 'validation_error');
    assert.equal((errorBody(missing).details as Array<{ field: string }>)[0]!.field, 'slug');
  });

  test('a 10 MB body is 413 payload_too_large', async () => {
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/api/auth/signup',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ email: 'a@b.c', password: 'x'.repeat(10 * 1024 * 1024), name: 'n' }),
    });
    assertErrorShape(res, 413, 'payload_too_large');
  });

  test('very long strings are rejected by the schema, not by the database', async () => {
    const long = 'x'.repeat(100_000);
    const res = await ctx.app.inject({ method: 'POST', url: '/api/auth/signup', payload: { email: `${long}@example.test`, password: long, name: long } });
    assertErrorShape(res, 400, 'validation_error');
    const login = await ctx.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: long, password: long } });
    assertErrorShape(login, 400, 'validation_error');
  });

  test('invalid UUIDs in paths are 404, never 500', async () => {
    for (const url of [
      `/api/tenants/not-a-uuid`,
      `/api/tenants/${tenantId}/members/not-a-uuid`,
      `/api/auth/sessions/%00`,
    ]) {
      const method = url.includes('members/') || url.includes('sessions/') ? 'DELETE' : 'GET';
      const res = await ctx.app.inject({ method, url, headers: bearer(user.accessToken) });
      assert.ok(res.statusCode === 404 || res.statusCode === 400, `${url}: ${res.statusCode} ${res.body}`);
    }
  });

  test('wrong methods are 405 with an Allow header; unknown paths 404', async () => {
    const res = await ctx.app.inject({ method: 'PUT', url: '/api/auth/login' });
    assertErrorShape(res, 405, 'method_not_allowed');
    assert.equal(res.headers.allow, 'POST');
    assertErrorShape(await ctx.app.inject({ url: '/api/nothing-here' }), 404, 'not_found');
  });

  test('a caller-supplied request id is echoed when well-formed, replaced otherwise', async () => {
    const ok = await ctx.app.inject({ url: '/api/health', headers: { 'x-request-id': 'trace-123' } });
    assert.equal(ok.headers['x-request-id'], 'trace-123');
    const bad = await ctx.app.inject({ url: '/api/health', headers: { 'x-request-id': 'x'.repeat(500) } });
    assert.notEqual(bad.headers['x-request-id'], 'x'.repeat(500));
  });

  test('garbage of every kind on every route never produces a 5xx', async () => {
    const payloads = ['null', '[]', '"str"', '123', '{"__proto__":{"polluted":1}}', '{"email":{"$ne":null}}', '\u0000'];
    const urls = ['/api/auth/signup', '/api/auth/login', '/api/auth/refresh', '/api/tenants', `/api/tenants/${tenantId}/invitations`];
    for (const url of urls) {
      for (const payload of payloads) {
        const res = await ctx.app.inject({
          method: 'POST',
          url,
          headers: { 'content-type': 'application/json', ...bearer(user.accessToken) },
          payload,
        });
        assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${url} ${payload}: ${res.statusCode} ${res.body}`);
        assert.ok(errorBody(res).code);
      }
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});
