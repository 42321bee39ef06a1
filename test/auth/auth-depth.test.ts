import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { Secret, TOTP } from 'otpauth';
import { createAuditService } from '../../src/audit/audit.service.js';
import { REFRESH_COOKIE } from '../../src/auth/cookie-session.js';
import { canRemoveSignInMethod, countSignInMethods, isChosenPassword } from '../../src/auth/sign-in-methods.core.js';
import { systemClock } from '../../src/shared/clock.js';
import { createEventHub, type BokaEvents } from '../../src/shared/events.js';
import { bearer, createTestApp, errorBody, signUp, TEST_PASSWORD, uniqueEmail, type SignedInUser, type TestContext } from '../helpers/app.js';
import { createManualClock, waitFor } from '../helpers/doubles.js';
import { startTestProvider, type TestAccount, type TestProvider } from '../oidc/test-provider.js';
import { createSoftAuthenticator, type SoftCredential } from '../passkeys/soft-authenticator.js';

const RP_ID = 'example.test';
const ORIGIN = 'https://app.example.test';
const BASE = 'http://boka.test';
const CALLBACK = `${BASE}/api/auth/oidc/test/callback`;

describe('one sign-in-method rule (pure)', () => {
  test('password, passkeys and OIDC identities all count; the last one stays (ASVS 4.0.3 2.5.x)', () => {
    const table: Array<[{ password: boolean; passkeys: number; identities: number }, 'passkey' | 'identity', boolean]> = [
      [{ password: false, passkeys: 1, identities: 1 }, 'passkey', true],
      [{ password: false, passkeys: 1, identities: 1 }, 'identity', true],
      [{ password: false, passkeys: 1, identities: 0 }, 'passkey', false],
      [{ password: false, passkeys: 0, identities: 1 }, 'identity', false],
      [{ password: true, passkeys: 1, identities: 0 }, 'passkey', true],
      [{ password: true, passkeys: 0, identities: 1 }, 'identity', true],
      [{ password: false, passkeys: 0, identities: 2 }, 'passkey', false],
      [{ password: false, passkeys: 2, identities: 0 }, 'passkey', true],
    ];
    for (const [methods, removing, verdict] of table) assert.equal(canRemoveSignInMethod(methods, removing), verdict, JSON.stringify([methods, removing]));
    assert.equal(countSignInMethods({ password: true, passkeys: 2, identities: 3 }), 6);
    assert.equal(isChosenPassword('$argon2id$v=19$x', null), true);
    assert.equal(isChosenPassword('$argon2id$v=19$x', '$argon2id$v=19$x'), false, 'the OIDC placeholder is no password');
    assert.equal(isChosenPassword('!deleted', null), false);
  });
});

/**
 * Issue #18 follow-ups (ADR 0014/0015/0016/0021 together): the four sign-in ways share one
 * last-method rule, one re-authentication (password, passkey, or a fresh OIDC sign-in for an
 * account with nothing else), one "disabled accounts get no session" rule, cookie mode with the
 * CSRF check, and deletion that drops every credential and keeps the audit chain verifiable.
 * Against a real OpenID provider and a software WebAuthn authenticator; PGlite and PostgreSQL.
 */
describe('auth depth: passkeys, OIDC, cookie mode and the account lifecycle together', () => {
  const clock = createManualClock(Date.UTC(2031, 0, 1));
  const events = createEventHub();
  const logins: Array<BokaEvents['auth.login']> = [];
  const failed: Array<BokaEvents['auth.login_failed']> = [];
  events.on('auth.login', (e) => logins.push(e));
  events.on('auth.login_failed', (e) => failed.push(e));
  const authenticator = createSoftAuthenticator({ rpId: RP_ID, origin: ORIGIN });
  let ctx: TestContext;
  let idp: TestProvider;

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'boka-authdepth-'));
    const clientSecret = randomBytes(24).toString('base64url');
    writeFileSync(join(dir, 'client-secret'), `${clientSecret}\n`);
    idp = await startTestProvider({ clientId: 'boka', clientSecret, redirectUris: [CALLBACK] });
    const providers = [{ id: 'test', name: 'Test IdP', issuer: idp.issuer, clientId: 'boka', clientSecretFile: join(dir, 'client-secret') }];
    ctx = await createTestApp({
      deps: { clock, events },
      env: {
        WEBAUTHN_ORIGINS: ORIGIN, WEBAUTHN_RP_ID: RP_ID, CORS_ORIGINS: ORIGIN,
        OIDC_PROVIDERS: JSON.stringify(providers), OIDC_REDIRECT_BASE_URL: BASE, OIDC_APP_URL: `${ORIGIN}/signed-in`, OIDC_REQUEST_TIMEOUT_MS: '5000',
      },
    });
  });
  after(async () => {
    await ctx.close();
    await idp.close();
  });

  const post = (url: string, payload: object, token?: string, headers: Record<string, string> = {}) =>
    ctx.app.inject({ method: 'POST', url, payload, headers: { ...(token ? bearer(token) : {}), ...headers } });
  const call = (method: 'GET' | 'DELETE' | 'POST', url: string, token: string, payload?: object) =>
    ctx.app.inject({ method, url, headers: bearer(token), ...(payload ? { payload } : {}) });
  const cookieHeaders = { 'x-boka-session': 'cookie', origin: ORIGIN };
  const refreshCookie = (res: LightMyRequestResponse) => res.cookies.find((c) => c.name === REFRESH_COOKIE);
  const disable = (userId: string) => ctx.database.db.query(`UPDATE users SET disabled_at = now(), disabled_reason = 'test' WHERE id = $1`, [userId]);
  const enable = (userId: string) => ctx.database.db.query(`UPDATE users SET disabled_at = NULL, disabled_reason = NULL WHERE id = $1`, [userId]);
  const sessionsOf = async (userId: string) => (await ctx.database.db.query(`SELECT 1 FROM sessions WHERE user_id = $1`, [userId])).rows.length;

  async function register(accessToken: string, name = 'Laptop'): Promise<SoftCredential> {
    const options = (await post('/api/auth/passkeys/registration/options', {}, accessToken)).json();
    const { credential, response } = authenticator.create(options);
    const res = await post('/api/auth/passkeys/registration/verify', { name, response }, accessToken);
    assert.equal(res.statusCode, 201, res.body);
    return credential;
  }
  const signInOptions = async () => (await post('/api/auth/passkeys/authentication/options', {})).json();
  const reauthOptions = async (token: string) => (await post('/api/auth/passkeys/reauthentication/options', {}, token)).json();

  /** The whole OIDC flow as `account`, returning the one-time login code. */
  async function oidcLoginCode(account: TestAccount): Promise<string> {
    const start = await ctx.app.inject({ method: 'GET', url: '/api/auth/oidc/test/start' });
    assert.equal(start.statusCode, 302, start.body);
    const header = start.headers['set-cookie'];
    const cookie = (Array.isArray(header) ? header : [header ?? '']).find((l) => l.startsWith('boka_oidc_test='))!.split(';')[0]!;
    idp.loginAs(account);
    const back = await idp.authorize(start.headers.location as string, CALLBACK);
    const res = await ctx.app.inject({ method: 'GET', url: `${back.pathname}${back.search}`, headers: { cookie } });
    assert.equal(res.statusCode, 302, res.body);
    return new URLSearchParams(new URL(res.headers.location as string).hash.slice(1)).get('login_code')!;
  }
  async function oidcSignIn(account: TestAccount) {
    const res = await post('/api/auth/oidc/exchange', { code: await oidcLoginCode(account) });
    assert.equal(res.statusCode, 200, res.body);
    return res.json<{ user: { id: string }; accessToken: string; refreshToken: string; sessionId: string }>();
  }
  const newAccount = (label: string): TestAccount => ({ sub: `${label}-${randomBytes(6).toString('hex')}`, email: uniqueEmail(label), email_verified: true, name: label });

  test('passkey removal counts OIDC identities, OIDC unlink counts passkeys; an OIDC-only account has no password', async () => {
    const account = newAccount('fed');
    const s = await oidcSignIn(account);
    const key = await register(s.accessToken);
    const identities = (await call('GET', '/api/auth/me/identities', s.accessToken)).json<{ items: Array<{ id: string }> }>().items;
    assert.equal(identities.length, 1);
    const passkeys = (await call('GET', '/api/auth/passkeys', s.accessToken)).json<{ items: Array<{ id: string }> }>().items;
    // The placeholder password is not a way in: with the identity gone the passkey is the last one.
    const unlink = await call('DELETE', `/api/auth/me/identities/${identities[0]!.id}`, s.accessToken);
    assert.equal(unlink.statusCode, 204, unlink.body);
    const removeLast = await call('DELETE', `/api/auth/passkeys/${passkeys[0]!.id}`, s.accessToken);
    assert.equal(removeLast.statusCode, 422);
    assert.deepEqual([errorBody(removeLast).code, errorBody(removeLast).details], ['invalid_state', { reason: 'last_sign_in_method' }]);
    // The passkey alone still signs in (usernameless).
    const options = await signInOptions();
    const back = await post('/api/auth/passkeys/authentication/verify', { response: authenticator.assert(key, options) });
    assert.equal(back.statusCode, 200, back.body);
    // Linking the identity again (same sub → sign-in links by verified email) lets the passkey go.
    const relinked = await oidcSignIn(account);
    assert.equal(relinked.user.id, s.user.id);
    assert.equal((await call('DELETE', `/api/auth/passkeys/${passkeys[0]!.id}`, relinked.accessToken)).statusCode, 204);
    const lastIdentity = (await call('GET', '/api/auth/me/identities', relinked.accessToken)).json<{ items: Array<{ id: string }> }>().items[0]!;
    const unlinkLast = await call('DELETE', `/api/auth/me/identities/${lastIdentity.id}`, relinked.accessToken);
    assert.equal(unlinkLast.statusCode, 422);
    assert.deepEqual(errorBody(unlinkLast).details, { reason: 'last_sign_in_method' });
  });

  test('a disabled account gets no session from a passkey, an OIDC exchange or the MFA passkey step; cookie refresh dies (403 account_disabled / 401)', async () => {
    // Passkey sign-in.
    const user = await signUp(ctx.app, 'blocked');
    const key = await register(user.accessToken);
    await disable(user.id);
    const before = await sessionsOf(user.id);
    const viaPasskey = await post('/api/auth/passkeys/authentication/verify', { response: authenticator.assert(key, await signInOptions()) });
    assert.equal(viaPasskey.statusCode, 403, viaPasskey.body);
    assert.equal(errorBody(viaPasskey).code, 'account_disabled');
    assert.ok(failed.some((f) => f.userId === user.id && f.reason === 'account_disabled'), 'counted as a failed login');
    assert.equal(await sessionsOf(user.id), before, 'no session row was written');
    await enable(user.id);

    // OIDC exchange: the login code is issued, the account is disabled before it is exchanged.
    const account = newAccount('blocked-fed');
    const first = await oidcSignIn(account);
    const code = await oidcLoginCode(account);
    await disable(first.user.id);
    const viaOidc = await post('/api/auth/oidc/exchange', { code });
    assert.equal(viaOidc.statusCode, 403, viaOidc.body);
    assert.equal(errorBody(viaOidc).code, 'account_disabled');

    // MFA passkey step: TOTP on, password accepted, disabled before the passkey step.
    const dave = await signUp(ctx.app, 'blocked-mfa');
    const daveKey = await register(dave.accessToken);
    const setup = (await post('/api/auth/mfa/totp/setup', {}, dave.accessToken)).json();
    const totp = new TOTP({ secret: Secret.fromBase32(setup.secret) }).generate({ timestamp: clock.now() });
    assert.equal((await post('/api/auth/mfa/totp/enable', { code: totp }, dave.accessToken)).statusCode, 200);
    const login = await post('/api/auth/login', { email: dave.email, password: TEST_PASSWORD });
    const { challengeToken } = errorBody(login).details as { challengeToken: string };
    const options = (await post('/api/auth/mfa/passkey/options', { challengeToken })).json();
    await disable(dave.id);
    const viaMfa = await post('/api/auth/mfa/passkey/verify', { challengeToken, response: authenticator.assert(daveKey, options) });
    assert.equal(viaMfa.statusCode, 403, viaMfa.body);
    assert.equal(errorBody(viaMfa).code, 'account_disabled');

    // Cookie refresh: a cookie-mode session of a now-disabled account refreshes no more, and the cookie is cleared.
    const erin = await signUp(ctx.app, 'blocked-cookie');
    const cookieLogin = await post('/api/auth/login', { email: erin.email, password: TEST_PASSWORD }, undefined, cookieHeaders);
    assert.equal(cookieLogin.statusCode, 200, cookieLogin.body);
    const value = refreshCookie(cookieLogin)!.value;
    await disable(erin.id);
    const refresh = await ctx.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: {}, headers: { origin: ORIGIN }, cookies: { [REFRESH_COOKIE]: value } });
    assert.equal(refresh.statusCode, 401, refresh.body);
    assert.equal(errorBody(refresh).code, 'invalid_token');
    assert.equal(refreshCookie(refresh)?.value, '', 'the dead cookie is cleared');
    // And the password login names the reason (only someone who knows the password learns it).
    assert.equal(errorBody(await post('/api/auth/login', { email: erin.email, password: TEST_PASSWORD })).code, 'account_disabled');
  });

  test('cookie mode for passkey sign-in, the MFA passkey step and the OIDC exchange; a cross-site request for it is refused (CSRF)', async () => {
    const user = await signUp(ctx.app, 'cookie-pk');
    const key = await register(user.accessToken);
    const res = await post('/api/auth/passkeys/authentication/verify', { response: authenticator.assert(key, await signInOptions()) }, undefined, cookieHeaders);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().refreshToken, undefined, 'no refresh token in the body');
    const cookie = refreshCookie(res)!;
    assert.deepEqual([cookie.httpOnly, cookie.secure, cookie.sameSite, cookie.path], [true, true, 'Lax', '/api/auth/refresh']);
    const refreshed = await ctx.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: {}, headers: { origin: ORIGIN }, cookies: { [REFRESH_COOKIE]: cookie.value } });
    assert.equal(refreshed.statusCode, 200, refreshed.body);
    assert.ok(refreshCookie(refreshed)?.value, 'rotated into a new cookie');

    // A forged cross-site sign-in asking for cookie mode is refused before the assertion is even read.
    const forged = await post('/api/auth/passkeys/authentication/verify', { response: authenticator.assert(key, await signInOptions()) }, undefined,
      { 'x-boka-session': 'cookie', origin: 'https://evil.test' });
    assert.equal(forged.statusCode, 403);
    assert.equal(errorBody(forged).code, 'csrf_rejected');
    assert.equal(refreshCookie(forged), undefined);

    // MFA passkey step.
    const setup = (await post('/api/auth/mfa/totp/setup', {}, user.accessToken)).json();
    const totp = new TOTP({ secret: Secret.fromBase32(setup.secret) }).generate({ timestamp: clock.now() });
    assert.equal((await post('/api/auth/mfa/totp/enable', { code: totp }, user.accessToken)).statusCode, 200);
    const { challengeToken } = errorBody(await post('/api/auth/login', { email: user.email, password: TEST_PASSWORD })).details as { challengeToken: string };
    const options = (await post('/api/auth/mfa/passkey/options', { challengeToken })).json();
    const mfa = await post('/api/auth/mfa/passkey/verify', { challengeToken, response: authenticator.assert(key, options) }, undefined, cookieHeaders);
    assert.equal(mfa.statusCode, 200, mfa.body);
    assert.equal(mfa.json().refreshToken, undefined);
    assert.ok(refreshCookie(mfa)?.value);

    // OIDC exchange.
    const code = await oidcLoginCode(newAccount('cookie-fed'));
    const forgedExchange = await post('/api/auth/oidc/exchange', { code }, undefined, { 'x-boka-session': 'cookie', origin: 'https://evil.test' });
    assert.equal(errorBody(forgedExchange).code, 'csrf_rejected');
    const exchanged = await post('/api/auth/oidc/exchange', { code }, undefined, cookieHeaders);
    assert.equal(exchanged.statusCode, 200, exchanged.body);
    assert.equal(exchanged.json().refreshToken, undefined);
    assert.ok(refreshCookie(exchanged)?.value);
    assert.ok(logins.some((l) => l.sessionId === exchanged.json().sessionId), 'auth.login emitted for the cookie-mode OIDC sign-in');
  });

  test('re-authentication by passkey for an email change and deletion; deletion drops passkeys and challenges', async () => {
    const user: SignedInUser = await signUp(ctx.app, 'reauth-pk');
    const key = await register(user.accessToken);
    // Another user's assertion, or a sign-in challenge, is no proof.
    const wrongPurpose = await call('POST', '/api/auth/me/email', user.accessToken, { newEmail: uniqueEmail('x'), passkey: authenticator.assert(key, await signInOptions()) });
    assert.equal(wrongPurpose.statusCode, 401);
    assert.equal(errorBody(wrongPurpose).code, 'invalid_credentials');
    const change = await call('POST', '/api/auth/me/email', user.accessToken, { newEmail: uniqueEmail('new'), passkey: authenticator.assert(key, await reauthOptions(user.accessToken)) });
    assert.equal(change.statusCode, 202, change.body);
    // Two proofs at once, or none, are not a body this route takes.
    const both = await call('DELETE', '/api/auth/me', user.accessToken, { password: TEST_PASSWORD, passkey: authenticator.assert(key, await reauthOptions(user.accessToken)) });
    assert.equal(both.statusCode, 400);
    assert.equal((await call('DELETE', '/api/auth/me', user.accessToken, {})).statusCode, 400);
    // An account with a password cannot skip it with `recentSignIn`.
    const skip = await call('DELETE', '/api/auth/me', user.accessToken, { recentSignIn: true });
    assert.equal(skip.statusCode, 401);

    const del = await call('DELETE', '/api/auth/me', user.accessToken, { passkey: authenticator.assert(key, await reauthOptions(user.accessToken)) });
    assert.equal(del.statusCode, 204, del.body);
    for (const table of ['passkeys', 'webauthn_challenges']) {
      assert.equal((await ctx.database.db.query(`SELECT 1 FROM ${table} WHERE user_id = $1`, [user.id])).rows.length, 0, table);
    }
    // Both the refused and the accepted proofs are in the platform audit chain, by method, in order.
    const audited = async () => (await ctx.database.db.query<{ outcome: string; details: { method: string } }>(
      `SELECT outcome, details FROM audit_log WHERE action = 'account.reauthenticated' AND target = $1 ORDER BY seq`, [`user:${user.id}`])).rows;
    const rows = await waitFor(async () => {
      const found = await audited();
      return found.length >= 4 ? found : undefined;
    });
    assert.deepEqual(rows.map((r) => [r.details.method, r.outcome]), [
      ['passkey', 'failure'], ['passkey', 'success'], ['recent_sign_in', 'failure'], ['passkey', 'success'],
    ]);
    // The passkey no longer signs anyone in.
    const after = await post('/api/auth/passkeys/authentication/verify', { response: authenticator.assert(key, await signInOptions()) });
    assert.equal(after.statusCode, 401);
  });

  test('an OIDC-only account re-authenticates by a fresh OIDC sign-in; deletion drops its identities; the audit chain verifies', async () => {
    const account = newAccount('fed-only');
    const s = await oidcSignIn(account);
    // A password is no proof here: the account never chose one (the placeholder is never disclosed).
    assert.equal((await call('DELETE', '/api/auth/me', s.accessToken, { password: TEST_PASSWORD })).statusCode, 401);
    // Fresh (≤ 10 minutes) federated session: accepted for an email change.
    const change = await call('POST', '/api/auth/me/email', s.accessToken, { newEmail: uniqueEmail('fed-new'), recentSignIn: true });
    assert.equal(change.statusCode, 202, change.body);
    // A stale one is told to sign in again.
    clock.advance(11 * 60_000);
    const refreshed = await post('/api/auth/refresh', { refreshToken: s.refreshToken });
    assert.equal(refreshed.statusCode, 200, refreshed.body);
    const stale = await call('DELETE', '/api/auth/me', refreshed.json().accessToken, { recentSignIn: true });
    assert.equal(stale.statusCode, 403);
    assert.deepEqual([errorBody(stale).code, errorBody(stale).details], ['reauthentication_required', { maxSessionAgeSeconds: 600 }]);
    // A password session is not federated either, whatever its age.
    const pwd = await signUp(ctx.app, 'pwd-only');
    assert.equal((await call('DELETE', '/api/auth/me', pwd.accessToken, { recentSignIn: true })).statusCode, 401);

    const fresh = await oidcSignIn(account);
    const del = await call('DELETE', '/api/auth/me', fresh.accessToken, { recentSignIn: true });
    assert.equal(del.statusCode, 204, del.body);
    for (const table of ['oidc_identities', 'oidc_login_codes', 'oidc_placeholder_passwords']) {
      assert.equal((await ctx.database.db.query(`SELECT 1 FROM ${table} WHERE user_id = $1`, [s.user.id])).rows.length, 0, table);
    }
    // Signing in at the provider again makes a new, separate account: the old one is gone.
    const again = await oidcSignIn(account);
    assert.notEqual(again.user.id, s.user.id);

    await waitFor(async () => (await ctx.database.db.query(`SELECT 1 FROM audit_log WHERE action = 'account.deleted' AND target = $1`, [`user:${s.user.id}`])).rows.length > 0);
    const report = await createAuditService({ db: ctx.database.db, clock: systemClock, events: createEventHub() }).verify();
    assert.deepEqual(report.broken, []);
  });
});
