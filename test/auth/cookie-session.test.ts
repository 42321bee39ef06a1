import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { Secret, TOTP } from 'otpauth';
import { bearer, createTestApp, errorBody, signUp, TEST_PASSWORD, type TestContext } from '../helpers/app.js';

/**
 * Cookie mode for browser apps (issue 18, ADR 0014). Cookie attributes per RFC 6265bis
 * §4.1.2/§4.1.3 and ASVS 4.0.3 3.4.1 (Secure), 3.4.2 (HttpOnly), 3.4.3 (SameSite), 3.4.4
 * (`__Host-`/`__Secure-` prefix), 3.4.5 (Path); CSRF per ASVS 4.2.2 and 13.2.3 (Origin checked
 * against the first-party allow-list). Bearer mode is unchanged.
 */
const APP_ORIGIN = 'https://app.example.test';
const COOKIE = '__Secure-boka_refresh';

type Tokens = { accessToken: string; refreshToken?: string; sessionId: string; user: { id: string } };

/** The session cookie set by a response, parsed into its value and attributes. */
function sessionCookie(res: LightMyRequestResponse): { value: string; attrs: Map<string, string> } | null {
  const raw = [res.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith(`${COOKIE}=`));
  if (!raw) return null;
  const [pair, ...rest] = raw.split(';').map((p) => p.trim());
  const attrs = new Map(rest.map((p) => {
    const [k, ...v] = p.split('=');
    return [k!.toLowerCase(), v.join('=')] as const;
  }));
  return { value: decodeURIComponent(pair!.slice(COOKIE.length + 1)), attrs };
}

describe('cookie session mode', () => {
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestApp({ env: { CORS_ORIGINS: APP_ORIGIN } });
  });
  after(() => ctx.close());

  const login = async (email: string, headers: Record<string, string> = { 'x-boka-session': 'cookie', origin: APP_ORIGIN }) =>
    ctx.app.inject({ method: 'POST', url: '/api/auth/login', headers, payload: { email, password: TEST_PASSWORD } });
  const refreshWithCookie = (value: string, headers: Record<string, string> = { origin: APP_ORIGIN }) =>
    ctx.app.inject({ method: 'POST', url: '/api/auth/refresh', headers, cookies: { [COOKIE]: value }, payload: {} });

  test('login in cookie mode sets an HttpOnly, Secure, SameSite=Lax cookie scoped to the refresh route, and no token in the body', async () => {
    const user = await signUp(ctx.app, 'cookie-login');
    const res = await login(user.email);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json<Tokens>();
    assert.equal(body.refreshToken, undefined);
    assert.ok(body.accessToken);
    const cookie = sessionCookie(res);
    assert.ok(cookie, 'a session cookie is set');
    assert.match(cookie.value, /^rt_/);
    assert.ok(cookie.attrs.has('httponly'));
    assert.ok(cookie.attrs.has('secure'));
    assert.equal(cookie.attrs.get('samesite')?.toLowerCase(), 'lax');
    assert.equal(cookie.attrs.get('path'), '/api/auth/refresh');
    assert.equal(cookie.attrs.get('max-age'), String(ctx.config.session.absoluteLifetimeSeconds));
    assert.equal(cookie.attrs.has('domain'), false, 'host-only cookie');
    // The access token works as a bearer token.
    assert.equal((await ctx.app.inject({ url: '/api/auth/me', headers: bearer(body.accessToken) })).statusCode, 200);
  });

  test('refresh reads the cookie, rotates it, and the body still carries no refresh token', async () => {
    const user = await signUp(ctx.app, 'cookie-refresh');
    const first = sessionCookie(await login(user.email))!;
    const res = await refreshWithCookie(first.value);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json<Tokens>().refreshToken, undefined);
    assert.equal(res.json<Tokens>().user.id, user.id);
    const next = sessionCookie(res);
    assert.ok(next);
    assert.notEqual(next.value, first.value);
    assert.equal((await ctx.app.inject({ url: '/api/auth/me', headers: bearer(res.json<Tokens>().accessToken) })).statusCode, 200);
    assert.equal((await refreshWithCookie(next.value)).statusCode, 200);
  });

  // RFC 9700 §4.14.2: reuse of a rotated refresh token revokes the session, whatever carries it.
  test('replaying a rotated cookie revokes the session and clears the cookie', async () => {
    const user = await signUp(ctx.app, 'cookie-reuse');
    const first = sessionCookie(await login(user.email))!;
    const rotated = await refreshWithCookie(first.value);
    const current = sessionCookie(rotated)!;
    const replay = await refreshWithCookie(first.value);
    assert.equal(replay.statusCode, 401);
    assert.deepEqual(errorBody(replay).details, { reason: 'refresh_token_reuse' });
    const cleared = sessionCookie(replay);
    assert.ok(cleared, 'the refusal expires the cookie');
    assert.equal(cleared.value, '');
    assert.equal(cleared.attrs.get('path'), '/api/auth/refresh');
    assert.ok(cleared.attrs.get('max-age') === '0' || cleared.attrs.has('expires'));
    assert.equal((await refreshWithCookie(current.value)).statusCode, 401);
    assert.equal((await ctx.app.inject({ url: '/api/auth/me', headers: bearer(rotated.json<Tokens>().accessToken) })).statusCode, 401);
  });

  test('logout revokes the session and clears the cookie', async () => {
    const user = await signUp(ctx.app, 'cookie-logout');
    const res = await login(user.email);
    const cookie = sessionCookie(res)!;
    const out = await ctx.app.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(res.json<Tokens>().accessToken) });
    assert.equal(out.statusCode, 204);
    const cleared = sessionCookie(out);
    assert.ok(cleared);
    assert.equal(cleared.value, '');
    assert.equal(cleared.attrs.get('path'), '/api/auth/refresh');
    assert.equal((await refreshWithCookie(cookie.value)).statusCode, 401);
  });

  test('a cookie-carrying POST from a foreign, null or missing Origin is 403 csrf_rejected, before the body is read', async () => {
    const user = await signUp(ctx.app, 'cookie-csrf');
    const cookie = sessionCookie(await login(user.email))!;
    const cases: Array<[string, Record<string, string>]> = [
      ['foreign origin', { origin: 'https://evil.example.test' }],
      ['sibling origin (same site)', { origin: 'https://evil.app.example.test' }],
      ['null origin', { origin: 'null' }],
      ['no origin, cross-site fetch metadata', { 'sec-fetch-site': 'cross-site' }],
      ['no origin, same-site fetch metadata', { 'sec-fetch-site': 'same-site' }],
      ['no origin, no fetch metadata', {}],
    ];
    for (const [label, headers] of cases) {
      // A classic cross-site form post: urlencoded body, which the JSON route would not even parse.
      const res = await ctx.app.inject({
        method: 'POST', url: '/api/auth/refresh', cookies: { [COOKIE]: cookie.value },
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, payload: 'refreshToken=x',
      });
      assert.equal(res.statusCode, 403, `${label}: ${res.body}`);
      assert.equal(errorBody(res).code, 'csrf_rejected', label);
      assert.doesNotMatch(res.body, new RegExp(cookie.value.slice(3, 20)), 'the token never appears in an error body');
    }
    // Cookie-mode sign-in is checked too (login CSRF would plant the forger's session).
    const forged = await login(user.email, { 'x-boka-session': 'cookie', origin: 'https://evil.example.test' });
    assert.equal(forged.statusCode, 403);
    assert.equal(errorBody(forged).code, 'csrf_rejected');
    assert.equal(sessionCookie(forged), null);
    // The refused attempts did not spend the cookie.
    assert.equal((await refreshWithCookie(cookie.value)).statusCode, 200);
    // Same-origin fetch metadata without Origin is accepted (a page served by the API host).
    const again = await login(user.email);
    assert.equal((await refreshWithCookie(sessionCookie(again)!.value, { 'sec-fetch-site': 'same-origin' })).statusCode, 200);
  });

  test('the MFA second step issues the session in cookie mode too', async () => {
    const user = await signUp(ctx.app, 'cookie-mfa');
    const setup = await ctx.app.inject({ method: 'POST', url: '/api/auth/mfa/totp/setup', headers: bearer(user.accessToken), payload: {} });
    const secret = setup.json<{ secret: string }>().secret;
    const code = new TOTP({ secret: Secret.fromBase32(secret) }).generate();
    const enabled = await ctx.app.inject({ method: 'POST', url: '/api/auth/mfa/totp/enable', headers: bearer(user.accessToken), payload: { code } });
    assert.equal(enabled.statusCode, 200, enabled.body);
    const backup = enabled.json<{ backupCodes: string[] }>().backupCodes[0]!;
    const first = await login(user.email);
    assert.equal(first.statusCode, 401);
    assert.equal(sessionCookie(first), null);
    const { challengeToken } = errorBody(first).details as { challengeToken: string };
    const verified = await ctx.app.inject({
      method: 'POST', url: '/api/auth/mfa/verify', headers: { 'x-boka-session': 'cookie', origin: APP_ORIGIN }, payload: { challengeToken, code: backup },
    });
    assert.equal(verified.statusCode, 200, verified.body);
    assert.equal(verified.json<Tokens>().refreshToken, undefined);
    const cookie = sessionCookie(verified);
    assert.ok(cookie && cookie.attrs.has('httponly'));
    assert.equal((await refreshWithCookie(cookie.value)).statusCode, 200);
  });

  test('a garbage, oversized or foreign-shaped cookie is 401 and expired, never a 5xx', async () => {
    for (const value of ['x', 'rt_not-a-token', '%E0%A4%A', 'rt_' + 'a'.repeat(4000), '"quoted"', 'rt_00000000-0000-0000-0000-000000000000.AAAA']) {
      const res = await refreshWithCookie(value);
      assert.equal(res.statusCode, 401, `${value.slice(0, 40)}: ${res.body}`);
      assert.equal(errorBody(res).code, 'invalid_token');
      assert.equal(sessionCookie(res)?.value, '', 'the useless cookie is expired');
    }
  });

  test('bearer mode is unchanged and never CSRF-checked', async () => {
    const user = await signUp(ctx.app, 'bearer');
    const res = await login(user.email, { origin: 'https://evil.example.test' });
    assert.equal(res.statusCode, 200);
    assert.equal(sessionCookie(res), null);
    const tokens = res.json<Tokens>();
    assert.match(tokens.refreshToken ?? '', /^rt_/);
    const refreshed = await ctx.app.inject({
      method: 'POST', url: '/api/auth/refresh', headers: { origin: 'https://evil.example.test' }, payload: { refreshToken: tokens.refreshToken },
    });
    assert.equal(refreshed.statusCode, 200);
    assert.match(refreshed.json<Tokens>().refreshToken ?? '', /^rt_/);
    assert.equal(sessionCookie(refreshed), null);
    // No token at all: 401, not 5xx; an unknown mode is a validation error.
    const none = await ctx.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: {} });
    assert.equal(none.statusCode, 401);
    assert.equal(errorBody(none).code, 'invalid_token');
    const odd = await login(user.email, { 'x-boka-session': 'both' });
    assert.equal(odd.statusCode, 400);
  });
});

// ASVS 7.1.1: the cookie's token never reaches a log line, even at trace level.
describe('cookie session logging', () => {
  test('no refresh token from a cookie in any log line', async () => {
    const lines: string[] = [];
    const { Writable } = await import('node:stream');
    const logStream = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done(); } });
    const ctx = await createTestApp({ env: { CORS_ORIGINS: APP_ORIGIN, LOG_LEVEL: 'trace' }, deps: { logStream } });
    try {
      const user = await signUp(ctx.app, 'cookie-log');
      const res = await ctx.app.inject({
        method: 'POST', url: '/api/auth/login', headers: { 'x-boka-session': 'cookie', origin: APP_ORIGIN }, payload: { email: user.email, password: TEST_PASSWORD },
      });
      const cookie = sessionCookie(res)!;
      const refreshed = await ctx.app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { origin: APP_ORIGIN }, cookies: { [COOKIE]: cookie.value }, payload: {} });
      assert.equal(refreshed.statusCode, 200);
      await ctx.app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { origin: 'https://evil.example.test' }, cookies: { [COOKIE]: cookie.value }, payload: {} });
      await ctx.app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { origin: APP_ORIGIN }, cookies: { [COOKIE]: cookie.value }, payload: {} });
      assert.ok(lines.length > 0, 'the app logged something');
      const secret = (v: string) => v.split('.')[1]!;
      for (const token of [cookie.value, sessionCookie(refreshed)!.value]) {
        assert.ok(!lines.some((l) => l.includes(secret(token))), 'a cookie token secret reached the log');
      }
    } finally {
      await ctx.close();
    }
  });
});
