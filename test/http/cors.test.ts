import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { bearer, createTenant, createTestApp, errorBody, signUp, type SignedInUser, type TestContext } from '../helpers/app.js';

/**
 * CORS (issue 17, ADR 0014; ASVS 4.0.3 14.5.3: the Origin header is checked against an
 * allow-list of trusted origins, never "*" or "null"; Fetch Standard §3.2 "CORS protocol"):
 * public tenant routes answer only the tenant's own `allowedOrigins` and never with credentials,
 * every other route only `CORS_ORIGINS`, with credentials; `Vary: Origin` always.
 */
const APP_ORIGIN = 'https://app.example.test';
const WIDGET_ORIGIN = 'https://salon.example.test';

describe('CORS', () => {
  let ctx: TestContext;
  let owner: SignedInUser;
  let tenant: { id: string; slug: string };
  before(async () => {
    ctx = await createTestApp({ env: { CORS_ORIGINS: `${APP_ORIGIN}, http://localhost:5173` } });
    owner = await signUp(ctx.app, 'cors-owner');
    tenant = await createTenant(ctx.app, owner);
    const res = await ctx.app.inject({
      method: 'PATCH', url: `/api/tenants/${tenant.id}/settings`, headers: bearer(owner.accessToken),
      payload: { allowedOrigins: [WIDGET_ORIGIN] },
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json<{ allowedOrigins: string[] }>().allowedOrigins, [WIDGET_ORIGIN]);
  });
  after(() => ctx.close());

  const preflight = (url: string, origin: string | undefined, method = 'GET', headers = 'content-type') =>
    ctx.app.inject({
      method: 'OPTIONS', url,
      headers: { ...(origin === undefined ? {} : { origin }), 'access-control-request-method': method, 'access-control-request-headers': headers },
    });
  const allowHeaders = (res: LightMyRequestResponse) => Object.keys(res.headers).filter((h) => h.startsWith('access-control-'));
  const varyOrigin = (res: LightMyRequestResponse) => String(res.headers.vary ?? '').toLowerCase().split(/,\s*/).includes('origin');

  test('a preflight from the tenant\'s widget origin is answered 204 without credentials', async () => {
    const res = await preflight(`/api/public/tenants/${tenant.slug}/availability?serviceId=x`, WIDGET_ORIGIN);
    assert.equal(res.statusCode, 204, res.body);
    assert.equal(res.headers['access-control-allow-origin'], WIDGET_ORIGIN);
    assert.equal(res.headers['access-control-allow-credentials'], undefined);
    assert.match(String(res.headers['access-control-allow-methods']), /GET/);
    assert.doesNotMatch(String(res.headers['access-control-allow-methods']), /DELETE/);
    assert.match(String(res.headers['access-control-allow-headers']), /content-type/);
    assert.ok(varyOrigin(res));
    // The actual request gets the header too, and the page may read the request id.
    const get = await ctx.app.inject({ url: `/api/public/tenants/${tenant.slug}`, headers: { origin: WIDGET_ORIGIN } });
    assert.equal(get.statusCode, 200);
    assert.equal(get.headers['access-control-allow-origin'], WIDGET_ORIGIN);
    assert.equal(get.headers['access-control-allow-credentials'], undefined);
    assert.match(String(get.headers['access-control-expose-headers']), /x-request-id/);
    assert.ok(varyOrigin(get));
  });

  test('a widget may send Idempotency-Key on a guest booking and read Idempotent-Replayed (issue 17)', async () => {
    const res = await preflight(`/api/public/tenants/${tenant.slug}/reservations`, WIDGET_ORIGIN, 'POST', 'content-type,idempotency-key');
    assert.equal(res.statusCode, 204, res.body);
    assert.match(String(res.headers['access-control-allow-headers']), /(^|,)\s*idempotency-key\s*(,|$)/);
    const get = await ctx.app.inject({ url: `/api/public/tenants/${tenant.slug}`, headers: { origin: WIDGET_ORIGIN } });
    assert.match(String(get.headers['access-control-expose-headers']), /(^|,)\s*idempotent-replayed\s*(,|$)/);
  });

  test('another origin, the first-party origin and a second tenant get no allow headers on public routes', async () => {
    const other = await createTenant(ctx.app, owner);
    for (const [url, origin] of [
      [`/api/public/tenants/${tenant.slug}/services`, 'https://evil.example.test'],
      [`/api/public/tenants/${tenant.slug}/services`, APP_ORIGIN],
      [`/api/public/tenants/${other.slug}/services`, WIDGET_ORIGIN],
    ] as const) {
      const res = await preflight(url, origin);
      assert.deepEqual(allowHeaders(res), [], `${origin} → ${url}`);
      assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${res.statusCode}`);
      assert.ok(varyOrigin(res));
      const get = await ctx.app.inject({ url, headers: { origin } });
      assert.equal(get.statusCode, 200);
      assert.deepEqual(allowHeaders(get), []);
      assert.ok(varyOrigin(get));
    }
  });

  test('an unknown or malformed slug is no 5xx and gets no allow headers', async () => {
    for (const slug of ['no-such-tenant', 'UPPER', 'a'.repeat(200), '%00', '..%2f..']) {
      const res = await preflight(`/api/public/tenants/${slug}/services`, WIDGET_ORIGIN);
      assert.ok(res.statusCode < 500, `${slug}: ${res.statusCode}`);
      assert.deepEqual(allowHeaders(res), [], slug);
    }
  });

  test('non-public routes answer CORS_ORIGINS only, with credentials', async () => {
    const ok = await preflight('/api/auth/refresh', APP_ORIGIN, 'POST', 'content-type');
    assert.equal(ok.statusCode, 204);
    assert.equal(ok.headers['access-control-allow-origin'], APP_ORIGIN);
    assert.equal(ok.headers['access-control-allow-credentials'], 'true');
    assert.ok(varyOrigin(ok));
    const dev = await preflight(`/api/tenants/${tenant.id}/settings`, 'http://localhost:5173', 'PATCH', 'authorization, content-type');
    assert.equal(dev.statusCode, 204);
    assert.match(String(dev.headers['access-control-allow-methods']), /PATCH/);
    // A refusal by the pipeline still carries the headers, so the page can read the 401.
    const me = await ctx.app.inject({ url: '/api/auth/me', headers: { origin: APP_ORIGIN } });
    assert.equal(me.statusCode, 401);
    assert.equal(me.headers['access-control-allow-origin'], APP_ORIGIN);
    for (const origin of [WIDGET_ORIGIN, 'https://app.example.test.evil.test', 'http://app.example.test']) {
      const res = await preflight('/api/auth/refresh', origin, 'POST');
      assert.deepEqual(allowHeaders(res), [], origin);
      assert.ok(varyOrigin(res));
    }
  });

  test('preflight details: max-age, no expose list, the error format without Access-Control-Request-Method, 404 for a refused one', async () => {
    const ok = await preflight('/api/auth/refresh', APP_ORIGIN, 'POST');
    assert.equal(ok.headers['access-control-max-age'], '600');
    assert.equal(ok.headers['access-control-expose-headers'], undefined, 'expose list is for actual requests');
    assert.equal(ok.body, '');
    // An allowed origin's OPTIONS that is not a preflight: the one JSON error shape, not text/plain.
    const bare = await ctx.app.inject({ method: 'OPTIONS', url: '/api/auth/refresh', headers: { origin: APP_ORIGIN } });
    assert.equal(bare.statusCode, 400);
    assert.equal(errorBody(bare).code, 'validation_error');
    assert.equal(bare.headers['access-control-allow-origin'], APP_ORIGIN, 'the page may read the refusal');
    // A refused preflight falls through to the router: 405 (the path exists for POST) in the
    // error format, nothing allowed.
    const refused = await preflight('/api/auth/refresh', 'https://evil.example.test', 'POST');
    assert.equal(refused.statusCode, 405);
    assert.equal(errorBody(refused).code, 'method_not_allowed');
    assert.deepEqual(allowHeaders(refused), []);
    // A request with no Origin at all still says the answer varies by Origin (Fetch §3.2.5).
    const plain = await ctx.app.inject({ url: '/api/health' });
    assert.ok(varyOrigin(plain));
    assert.deepEqual(allowHeaders(plain), []);
  });

  test('a malformed, null or missing Origin is never reflected and never a 5xx', async () => {
    for (const origin of [undefined, 'null', '*', '', 'https://APP.example.test', `${APP_ORIGIN}/`, `${APP_ORIGIN}:443`, 'javascript:alert(1)', 'x'.repeat(5000), `${WIDGET_ORIGIN}\u0000`]) {
      for (const url of ['/api/auth/refresh', `/api/public/tenants/${tenant.slug}`]) {
        const res = await preflight(url, origin);
        assert.ok(res.statusCode < 500, `${String(origin)} ${url}: ${res.statusCode}`);
        assert.deepEqual(allowHeaders(res), [], `${String(origin)} ${url}`);
      }
    }
  });

  test('allowedOrigins takes canonical origins only, at most 20', async () => {
    const patch = (allowedOrigins: unknown) => ctx.app.inject({
      method: 'PATCH', url: `/api/tenants/${tenant.id}/settings`, headers: bearer(owner.accessToken), payload: { allowedOrigins },
    });
    for (const bad of [['*'], ['https://*.example.test'], ['https://Example.test'], ['https://example.test/'], ['https://example.test:443'],
      ['ftp://example.test'], ['https://user@example.test'], [WIDGET_ORIGIN, WIDGET_ORIGIN], Array.from({ length: 21 }, (_, i) => `https://s${i}.example.test`), 'https://example.test']) {
      const res = await patch(bad);
      assert.equal(res.statusCode, 400, `${JSON.stringify(bad)} → ${res.body}`);
      assert.equal(errorBody(res).code, 'validation_error');
    }
    // A change reaches the CORS answer at once (the cache is invalidated through the bus).
    assert.equal((await patch(['http://localhost:8080', 'https://[::1]:8443'])).statusCode, 200);
    const moved = await preflight(`/api/public/tenants/${tenant.slug}`, 'http://localhost:8080');
    assert.equal(moved.headers['access-control-allow-origin'], 'http://localhost:8080');
    assert.deepEqual(allowHeaders(await preflight(`/api/public/tenants/${tenant.slug}`, WIDGET_ORIGIN)), []);
    assert.equal((await patch([WIDGET_ORIGIN])).statusCode, 200);
  });
});
