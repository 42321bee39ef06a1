import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import { installPipeline, listRoutes } from '../../src/access/index.js';
import { createEventHub } from '../../src/shared/events.js';
import { createTestApp } from '../helpers/app.js';

// ASVS 4.1.5: access control fails securely. A route with no declared policy cannot be registered.
test('registering a route without an access policy fails the app build', async () => {
  const app = Fastify();
  installPipeline(app, { strategies: [], tenantRoles: { resolve: async () => null }, events: createEventHub(), operatorTokens: {} });
  assert.throws(() => app.get('/forgot-to-declare', async () => 'secret'), /declares no access policy/);
  app.get('/declared', { config: { access: { public: true } } }, async () => 'ok');
  await app.ready();
});

// The route table is the one place a reviewer reads to see who may call what. These checks
// fail when a route's declared policy drifts from what its URL promises.
test('the route table tells the truth: public, operator and tenant routes are what they claim', async () => {
  const ctx = await createTestApp();
  try {
    const routes = listRoutes(ctx.app);
    const key = (r: { method: string; url: string }) => `${r.method} ${r.url}`;
    const byKey = new Map(routes.map((r) => [key(r), r]));
    // Anonymous callers reach exactly these (and the static docs UI); anything else is a leak.
    const PUBLIC_ROUTES = new Set([
      'GET /openapi.json', 'GET /api/health', 'GET /api/health/ready', 'GET /.well-known/jwks.json',
      'POST /api/auth/signup', 'POST /api/auth/login', 'POST /api/auth/refresh', 'POST /api/auth/mfa/verify',
      'POST /api/auth/password/forgot', 'POST /api/auth/password/reset',
      'POST /api/auth/verify-email', 'POST /api/auth/verify-email/resend',
      'GET /api/public/tenants/:slug', 'GET /api/public/tenants/:slug/services', 'GET /api/public/tenants/:slug/availability',
      'POST /api/auth/passkeys/authentication/options', 'POST /api/auth/passkeys/authentication/verify',
      'POST /api/auth/mfa/passkey/options', 'POST /api/auth/mfa/passkey/verify',
      'GET /api/auth/oidc/providers', 'GET /api/auth/oidc/:provider/start', 'GET /api/auth/oidc/:provider/callback', 'POST /api/auth/oidc/exchange',
      // ADR 0021: the mailed email-change link is the credential (like verify-email).
      'POST /api/auth/me/email/confirm',
      // Issue 17 (ADR 0018): guest booking (a sent credential is still checked), manage links, link pages.
      'POST /api/public/tenants/:slug/reservations',
      'POST /api/public/manage/reservation', 'POST /api/public/manage/confirm', 'POST /api/public/manage/cancel', 'POST /api/public/manage/reschedule',
      'GET /reset-password', 'GET /verify-email', 'GET /invitations/accept', 'GET /booking/confirm', 'GET /booking/manage', 'GET /pages/link-pages.js',
      // Issue 17: iCal feeds; the revocable token in the path is the credential (docs/booking.md).
      'GET /api/public/calendar/:file',
    ]);
    const publicSeen = routes.filter((r) => 'public' in r.access && !r.url.startsWith('/docs')).map(key);
    assert.deepEqual(new Set(publicSeen), PUBLIC_ROUTES);
    // Operator credentials go through the layer, not through handler code.
    assert.deepEqual(byKey.get('GET /metrics')?.access, { operator: 'metrics' });
    assert.deepEqual(byKey.get('GET /api/health/deep')?.access, { operator: 'health' });
    for (const r of routes) {
      // A `:tenantId` route must check standing in that tenant; no other route may claim a tenant.
      assert.equal('permission' in r.access, r.url.includes(':tenantId'), `${key(r)} policy vs its :tenantId`);
      // Credential endpoints fail closed when the shared limiter is down; probes are never counted;
      // availability (public and member) draws on its own budget too (issue 12 item 1).
      const expected = r.url.startsWith('/api/auth/') || r.url.startsWith('/api/public/manage/')
        ? 'auth'
        : r.url === '/metrics' || r.url.startsWith('/api/health')
          ? 'exempt'
          : r.method === 'GET' && r.url.endsWith('/availability')
            ? 'availability'
            : 'api';
      assert.equal(r.rateLimit, expected, `${key(r)} rate-limit class`);
    }
  } finally {
    await ctx.close();
  }
});

test('operator routes refuse callers from elsewhere unless they hold the token (no token configured)', async () => {
  const ctx = await createTestApp();
  try {
    for (const url of ['/metrics', '/api/health/deep']) {
      const remote = await ctx.app.inject({ method: 'GET', url, remoteAddress: '203.0.113.9' });
      assert.equal(remote.statusCode, 403, url);
      assert.equal(remote.json().error, 'forbidden');
      const local = await ctx.app.inject({ method: 'GET', url, remoteAddress: '127.0.0.1' });
      assert.ok(local.statusCode === 200 || local.statusCode === 503, `${url} from loopback: ${local.statusCode}`);
    }
  } finally {
    await ctx.close();
  }
});

// RFC 7235 §3.1 / RFC 6750 §3: every 401 names its scheme; a bad token says invalid_token.
test('401 answers carry a Bearer challenge', async () => {
  const ctx = await createTestApp();
  try {
    const missing = await ctx.app.inject({ method: 'GET', url: '/api/auth/me' });
    assert.equal(missing.statusCode, 401);
    assert.equal(missing.headers['www-authenticate'], 'Bearer realm="boka"');
    const invalid = await ctx.app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: 'Bearer not.a.jwt' } });
    assert.equal(invalid.statusCode, 401);
    assert.match(String(invalid.headers['www-authenticate']), /^Bearer realm="boka", error="invalid_token"/);
  } finally {
    await ctx.close();
  }
});
