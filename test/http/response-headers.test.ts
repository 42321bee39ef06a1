import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import helmet from 'helmet';
import type { LightMyRequestResponse } from 'fastify';
import { API_HEADERS, DOCUMENT_HEADERS, staticHeadersOf } from '../../src/http/response-headers.js';
import { bearer, createTenant, createTestApp, signUp, type SignedInUser, type TestContext } from '../helpers/app.js';

/**
 * Response headers (ADR 0028). Every answer, refusals and errors included, carries the API set:
 * ASVS 4.0.3 14.4.3 (CSP), 14.4.4 (nosniff), 14.4.5 (HSTS), 14.4.6 (Referrer-Policy), 14.4.7
 * (framing), 8.2.1 (no caching of sensitive answers), and the request id. Only documents (the
 * HTML link pages and /docs) also carry helmet's document-only headers.
 */
const DOCUMENT_ONLY = ['cross-origin-opener-policy', 'origin-agent-cluster', 'x-dns-prefetch-control', 'x-download-options', 'x-permitted-cross-domain-policies', 'x-xss-protection'];

describe('response headers', () => {
  let ctx: TestContext;
  let owner: SignedInUser;
  let tenantId: string;
  before(async () => {
    ctx = await createTestApp();
    owner = await signUp(ctx.app, 'headers-owner');
    tenantId = (await createTenant(ctx.app, owner)).id;
  });
  after(() => ctx.close());

  const assertApiHeaders = (res: LightMyRequestResponse, what: string) => {
    const csp = String(res.headers['content-security-policy']);
    assert.match(csp, /default-src 'none'/, what);
    assert.match(csp, /frame-ancestors 'none'/, what);
    assert.equal(res.headers['x-content-type-options'], 'nosniff', what);
    const maxAge = Number(/max-age=(\d+)/.exec(String(res.headers['strict-transport-security']))?.[1]);
    assert.ok(maxAge >= 15_724_800, `${what}: HSTS max-age ${maxAge} (ASVS 14.4.5 asks ≥ 15724800)`);
    assert.equal(res.headers['referrer-policy'], 'no-referrer', what);
    assert.equal(res.headers['x-frame-options'], 'DENY', what);
    assert.equal(res.headers['cross-origin-resource-policy'], 'same-origin', what);
    assert.equal(res.headers['cache-control'], 'no-store', what);
    assert.match(String(res.headers['x-request-id']), /\S/, what);
  };

  test('every API answer carries the API set and none of the document-only headers', async () => {
    const answers: Array<[string, LightMyRequestResponse, number]> = [
      ['public route', await ctx.app.inject({ url: '/api/health' }), 200],
      ['authenticated route', await ctx.app.inject({ url: `/api/tenants/${tenantId}`, headers: bearer(owner.accessToken) }), 200],
      ['refusal', await ctx.app.inject({ url: `/api/tenants/${tenantId}` }), 401],
      ['non-canonical id', await ctx.app.inject({ url: `/api/tenants/${tenantId.toUpperCase()}`, headers: bearer(owner.accessToken) }), 404],
      ['unmatched route', await ctx.app.inject({ url: '/api/no-such-thing' }), 404],
      ['malformed body', await ctx.app.inject({ method: 'POST', url: '/api/auth/login', headers: { 'content-type': 'application/json' }, payload: '{' }), 400],
    ];
    for (const [what, res, status] of answers) {
      assert.equal(res.statusCode, status, `${what}: ${res.body}`);
      assertApiHeaders(res, what);
      for (const name of DOCUMENT_ONLY) assert.equal(res.headers[name], undefined, `${what} carries ${name}`);
    }
  });

  test('a well-formed client request id is echoed; a malformed one is replaced', async () => {
    const echoed = await ctx.app.inject({ url: '/api/health', headers: { 'x-request-id': 'trace-0123456789' } });
    assert.equal(echoed.headers['x-request-id'], 'trace-0123456789');
    const replaced = await ctx.app.inject({ url: '/api/health', headers: { 'x-request-id': 'bad id\twith tab' } });
    assert.notEqual(replaced.headers['x-request-id'], 'bad id\twith tab');
    assert.match(String(replaced.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  });

  test('documents (a link page, /docs) carry the document-only headers under their own CSP', async () => {
    for (const url of ['/reset-password', '/docs/']) {
      const res = await ctx.app.inject({ url });
      assert.equal(res.statusCode, 200, url);
      assert.match(String(res.headers['content-type']), /^text\/html/, url);
      assert.match(String(res.headers['content-security-policy']), /script-src 'self'/, url);
      assert.equal(res.headers['cross-origin-opener-policy'], 'same-origin', url);
      assert.equal(res.headers['x-xss-protection'], '0', url);
      for (const name of DOCUMENT_ONLY) assert.ok(res.headers[name] !== undefined, `${url} lacks ${name}`);
      assert.equal(res.headers['x-frame-options'], 'DENY', url);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', url);
    }
  });

  test('the split loses none of helmet\'s defaults', () => {
    const all = Object.keys(staticHeadersOf(helmet()));
    const split = new Set([...Object.keys(API_HEADERS), ...Object.keys(DOCUMENT_HEADERS)]);
    for (const name of all) assert.ok(split.has(name), `${name} is in neither set`);
    assert.deepEqual(Object.keys(DOCUMENT_HEADERS).sort(), [...DOCUMENT_ONLY].sort());
  });
});
