/**
 * Cookie sessions, CORS and the CSRF check in a real headless Chromium (Debian `chromium` +
 * playwright-core), issue 18 / ADR 0014. Four loopback origins:
 * - the API on http://localhost:P1;
 * - the first-party app on http://localhost:P2 (in CORS_ORIGINS): same site as the API, another
 *   origin. It signs in with `credentials: 'include'` in cookie mode and refreshes from the cookie;
 * - a same-site forger on http://localhost:P3 (not in CORS_ORIGINS): `SameSite=Lax` does not stop
 *   it, the browser sends the cookie with its auto-submitted form, and the server's Origin check
 *   refuses it (403 csrf_rejected);
 * - a cross-site forger on http://127.0.0.1:P4: the browser does not even send the cookie.
 *   The same origin is a tenant's widget origin: its fetch of the public route is allowed by CORS.
 * Secure cookies over plain http work only because Chromium treats http://localhost as a secure
 * context (W3C Secure Contexts §3.2, RFC 6265bis §5.8.3), which is why the API and the app sit on
 * `localhost`. /docs must render with no CSP violation in the console.
 * Without Chromium the test is skipped, except under CI=true.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser } from 'playwright-core';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { bearer, createTenant, signUp, TEST_PASSWORD } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const COOKIE = '__Secure-boka_refresh';

const missing = existsSync(CHROMIUM) ? null : `Chromium not found at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`;
if (missing && process.env.CI === 'true') throw new Error(`${missing}: the cookie-session browser test cannot be skipped under CI=true`);

/** A static page server: path → HTML. */
async function serve(host: string, pages: (port: number) => Record<string, string>): Promise<{ server: Server; port: number }> {
  let table: Record<string, string> = {};
  const server = createServer((req, res) => {
    const html = table[(req.url ?? '/').split('?')[0] ?? '/'];
    res.writeHead(html === undefined ? 404 : 200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html ?? 'not found');
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  table = pages(port);
  return { server, port };
}

/** A page that posts a classic HTML form to `action` as soon as it loads. */
const forgeryPage = (action: string) =>
  `<!doctype html><form method="post" enctype="text/plain" action="${action}"><input name='{"a":"' value='"}'></form><script>document.forms[0].submit()</script>`;

describe('cookie session in headless Chromium', { skip: missing ?? false }, () => {
  let database: TestDatabase;
  let api: FastifyInstance;
  let browser: Browser;
  let apiOrigin: string;
  let appOrigin: string;
  let siblingOrigin: string;
  let crossOrigin: string;
  let tenantSlug: string;
  const servers: Server[] = [];
  /** Whether each refresh request reached the API with the session cookie, in order. */
  const refreshCookieSeen: Array<{ origin: string | undefined; cookie: boolean }> = [];
  const email = `browser-${randomBytes(4).toString('hex')}@example.test`;

  before(async () => {
    const app = await serve('localhost', () => ({ '/': '<!doctype html><title>app</title>' }));
    appOrigin = `http://localhost:${app.port}`;
    servers.push(app.server);
    database = await createTestDatabase();
    const config = loadConfig({ NODE_ENV: 'test', BOKA_DATA_DIR: 'memory', BOKA_SECRET_KEY: randomBytes(32).toString('base64url'), CORS_ORIGINS: appOrigin }, { databaseUrl: database.url });
    api = await buildApp(config, { db: database.db });
    // onResponse: it also sees the requests a hook refused (the CSRF step runs in onRequest).
    api.addHook('onResponse', async (request) => {
      if (request.url.startsWith('/api/auth/refresh') && request.method === 'POST') {
        refreshCookieSeen.push({ origin: request.headers.origin, cookie: request.cookies[COOKIE] !== undefined });
      }
    });
    await api.listen({ host: 'localhost', port: 0 });
    apiOrigin = `http://localhost:${(api.server.address() as AddressInfo).port}`;
    const sibling = await serve('localhost', () => ({ '/': forgeryPage(`${apiOrigin}/api/auth/refresh`) }));
    siblingOrigin = `http://localhost:${sibling.port}`;
    const cross = await serve('127.0.0.1', () => ({ '/': forgeryPage(`${apiOrigin}/api/auth/refresh`), '/widget': '<!doctype html><title>widget</title>' }));
    crossOrigin = `http://127.0.0.1:${cross.port}`;
    servers.push(sibling.server, cross.server);

    const owner = await signUp(api, 'browser-owner');
    const tenant = await createTenant(api, owner);
    tenantSlug = tenant.slug;
    const patched = await api.inject({ method: 'PATCH', url: `/api/tenants/${tenant.id}/settings`, headers: bearer(owner.accessToken), payload: { allowedOrigins: [crossOrigin] } });
    assert.equal(patched.statusCode, 200, patched.body);
    const signup = await api.inject({ method: 'POST', url: '/api/auth/signup', payload: { email, password: TEST_PASSWORD, name: 'browser' } });
    assert.equal(signup.statusCode, 201, signup.body);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    await api?.close();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    await database?.drop();
  });

  it('signs in and refreshes from the app origin; same-site and cross-site form posts are refused', { timeout: 120_000 }, async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${appOrigin}/`);
      const signedIn = await page.evaluate(async ({ apiOrigin, email, password }) => {
        const login = await fetch(`${apiOrigin}/api/auth/login`, {
          method: 'POST', credentials: 'include',
          headers: { 'content-type': 'application/json', 'x-boka-session': 'cookie' },
          body: JSON.stringify({ email, password }),
        });
        const body = await login.json() as { accessToken?: string; refreshToken?: string };
        const refresh = await fetch(`${apiOrigin}/api/auth/refresh`, {
          method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json' }, body: '{}',
        });
        const refreshed = await refresh.json() as { accessToken?: string; refreshToken?: string };
        const me = await fetch(`${apiOrigin}/api/auth/me`, { headers: { authorization: `Bearer ${refreshed.accessToken}` } });
        return {
          login: login.status, loginHasRefreshToken: 'refreshToken' in body, refresh: refresh.status,
          refreshHasRefreshToken: 'refreshToken' in refreshed, me: me.status, documentCookie: (globalThis as unknown as { document: { cookie: string } }).document.cookie,
          requestId: refresh.headers.get('x-request-id'),
        };
      }, { apiOrigin, email, password: TEST_PASSWORD });
      assert.deepEqual(
        { ...signedIn, requestId: typeof signedIn.requestId },
        { login: 200, loginHasRefreshToken: false, refresh: 200, refreshHasRefreshToken: false, me: 200, documentCookie: '', requestId: 'string' },
      );
      // (context.cookies(url) leaves Secure cookies out for an http URL, even on localhost.)
      const stored = (await context.cookies()).find((c) => c.name === COOKIE && c.domain === 'localhost');
      assert.ok(stored, 'Chromium stored the session cookie');
      assert.deepEqual({ httpOnly: stored.httpOnly, secure: stored.secure, sameSite: stored.sameSite, path: stored.path }, { httpOnly: true, secure: true, sameSite: 'Lax', path: '/api/auth/refresh' });
      assert.deepEqual(refreshCookieSeen.at(-1), { origin: appOrigin, cookie: true });

      // Same-site forger: the cookie goes along, the Origin check refuses it.
      const sibling = await context.newPage();
      const [siblingAnswer] = await Promise.all([
        sibling.waitForResponse((r) => r.url() === `${apiOrigin}/api/auth/refresh`),
        sibling.goto(`${siblingOrigin}/`),
      ]);
      assert.equal(siblingAnswer.status(), 403);
      assert.equal((await siblingAnswer.json() as { code: string }).code, 'csrf_rejected');
      assert.deepEqual(refreshCookieSeen.at(-1), { origin: siblingOrigin, cookie: true });

      // Cross-site forger: SameSite=Lax keeps the cookie home; nothing is refreshed.
      const cross = await context.newPage();
      const [crossAnswer] = await Promise.all([
        cross.waitForResponse((r) => r.url() === `${apiOrigin}/api/auth/refresh`),
        cross.goto(`${crossOrigin}/`),
      ]);
      assert.notEqual(crossAnswer.status(), 200);
      assert.deepEqual(refreshCookieSeen.at(-1), { origin: crossOrigin, cookie: false });

      // The app's session survived both attempts; logout clears the cookie.
      const afterwards = await page.evaluate(async (apiOrigin) => {
        const refresh = await fetch(`${apiOrigin}/api/auth/refresh`, { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json' }, body: '{}' });
        const { accessToken } = await refresh.json() as { accessToken: string };
        const logout = await fetch(`${apiOrigin}/api/auth/logout`, { method: 'POST', credentials: 'include', headers: { authorization: `Bearer ${accessToken}` } });
        const again = await fetch(`${apiOrigin}/api/auth/refresh`, { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json' }, body: '{}' });
        return { refresh: refresh.status, logout: logout.status, again: again.status };
      }, apiOrigin);
      assert.deepEqual(afterwards, { refresh: 200, logout: 204, again: 401 });
      assert.equal((await context.cookies()).find((c) => c.name === COOKIE), undefined, 'logout removed the cookie');
    } finally {
      await context.close();
    }
  });

  it('a tenant widget origin reads the public route; another origin is blocked by CORS', { timeout: 60_000 }, async () => {
    const context = await browser.newContext();
    try {
      const read = async (origin: string) => {
        const page = await context.newPage();
        await page.goto(origin === crossOrigin ? `${crossOrigin}/widget` : `${origin}/`);
        return page.evaluate(async (url) => {
          try {
            const res = await fetch(url);
            return { status: res.status, name: ((await res.json()) as { slug?: string }).slug ?? null };
          } catch (err) {
            return { error: String(err) };
          }
        }, `${apiOrigin}/api/public/tenants/${tenantSlug}`);
      };
      assert.deepEqual(await read(crossOrigin), { status: 200, name: tenantSlug });
      const blocked = await read(appOrigin);
      assert.ok('error' in blocked, `the app origin is not in the tenant's list: ${JSON.stringify(blocked)}`);
    } finally {
      await context.close();
    }
  });

  it('renders /docs (Swagger UI) without CSP violations', { timeout: 60_000 }, async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`console: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      await page.goto(`${apiOrigin}/docs/`);
      await page.locator('.swagger-ui .info .title').filter({ hasText: 'Boka API' }).waitFor({ timeout: 30_000 });
      await page.locator('.opblock').first().waitFor({ timeout: 30_000 });
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
});
