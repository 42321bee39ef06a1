import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { Secret, TOTP } from 'otpauth';
import { bearer, createTestApp, errorBody, signUp, TEST_PASSWORD, uniqueEmail, type TestContext } from '../helpers/app.js';
import { createManualClock, waitFor } from '../helpers/doubles.js';
import { startTestProvider, type TestAccount, type TestProvider } from './test-provider.js';

const BASE = 'http://boka.test';
const APP_URL = 'https://app.example.test/signed-in';
const CALLBACK = `${BASE}/api/auth/oidc/test/callback`;

/** A port nothing listens on: the "provider down" case. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Issue #18, ADR 0015: Sign in with OpenID Connect end to end against a real OpenID provider
 * (oidc-provider) started in-process. Authorization code + PKCE S256 (RFC 7636), state and
 * nonce (RFC 6749 §10.12, OIDC Core 1.0 §3.1.2.1 / §15.5.2), account linking only by a verified
 * email; ASVS 4.0.3 3.5.x (tokens never in URLs, one-time codes). Runs on PGlite and PostgreSQL.
 */
describe('sign in with OpenID Connect', () => {
  const clock = createManualClock();
  let ctx: TestContext;
  let idp: TestProvider;
  // ASVS 7.1.1: every secret of every flow below is collected, and the last test greps the logs
  // (at trace level) and the audit trail for them.
  const secrets: string[] = [];
  const lines: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });

  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'boka-oidc-'));
    const clientSecret = randomBytes(24).toString('base64url');
    writeFileSync(join(dir, 'client-secret'), `${clientSecret}\n`);
    secrets.push(clientSecret);
    idp = await startTestProvider({ clientId: 'boka', clientSecret, redirectUris: [CALLBACK] });
    const providers = [
      { id: 'test', name: 'Test IdP', issuer: idp.issuer, clientId: 'boka', clientSecretFile: join(dir, 'client-secret') },
      { id: 'down', issuer: `http://127.0.0.1:${await closedPort()}`, clientId: 'boka' },
    ];
    ctx = await createTestApp({
      env: { OIDC_PROVIDERS: JSON.stringify(providers), OIDC_REDIRECT_BASE_URL: BASE, OIDC_APP_URL: APP_URL, OIDC_REQUEST_TIMEOUT_MS: '3000', LOG_LEVEL: 'trace' },
      deps: { clock, logStream },
    });
  });
  after(async () => {
    await ctx.close();
    await idp.close();
  });

  const get = (url: string, cookie?: string) => ctx.app.inject({ method: 'GET', url, headers: cookie ? { cookie } : {} });
  const exchange = async (code: string) => {
    const res = await ctx.app.inject({ method: 'POST', url: '/api/auth/oidc/exchange', payload: { code } });
    if (res.statusCode === 200) secrets.push(res.json<{ accessToken: string }>().accessToken, res.json<{ refreshToken: string }>().refreshToken);
    return res;
  };
  const cookieOf = (res: LightMyRequestResponse) => {
    const header = res.headers['set-cookie'];
    const line = (Array.isArray(header) ? header : [header ?? '']).find((l) => l.startsWith('boka_oidc_test='));
    assert.ok(line, 'start sets the binding cookie');
    return { pair: line.split(';')[0]!, line };
  };
  const pathOf = (url: URL) => `${url.pathname}${url.search}`;

  /** start → provider (login + consent as `account`) → the provider's redirect back, not yet delivered. */
  async function authorize(account: TestAccount) {
    const start = await get('/api/auth/oidc/test/start');
    assert.equal(start.statusCode, 302, start.body);
    const location = new URL(start.headers.location as string);
    idp.loginAs(account);
    const back = await idp.authorize(location.href, CALLBACK);
    const cookie = cookieOf(start).pair;
    const state = location.searchParams.get('state')!;
    secrets.push(state, state.split('.')[1]!, location.searchParams.get('nonce')!, back.searchParams.get('code')!, cookie.split('=')[1]!);
    return { start, location, back, cookie };
  }

  /** The whole flow up to the app's page; returns the login code from the fragment. */
  async function signIn(account: TestAccount): Promise<string> {
    const { back, cookie } = await authorize(account);
    const res = await get(pathOf(back), cookie);
    assert.equal(res.statusCode, 302, res.body);
    const to = new URL(res.headers.location as string);
    assert.equal(`${to.origin}${to.pathname}`, APP_URL);
    assert.equal(to.search, '', 'nothing in the query string');
    const code = new URLSearchParams(to.hash.slice(1)).get('login_code');
    assert.ok(code && code.startsWith('olc_'), to.hash);
    secrets.push(code);
    return code;
  }

  const identities = async (accessToken: string) =>
    (await ctx.app.inject({ method: 'GET', url: '/api/auth/me/identities', headers: bearer(accessToken) })).json<{ items: Array<{ id: string; provider: string; email: string | null }> }>().items;
  const identityRows = async (sub: string) => (await ctx.database.db.query(`SELECT user_id FROM oidc_identities WHERE subject = $1`, [sub])).rows;

  test('the authorization request uses PKCE S256, a state and a nonce; none of them is stored in clear or given to the browser', async () => {
    const start = await get('/api/auth/oidc/test/start');
    assert.equal(start.statusCode, 302);
    const url = new URL(start.headers.location as string);
    assert.equal(`${url.origin}`, idp.issuer);
    const p = url.searchParams;
    assert.equal(p.get('response_type'), 'code');
    assert.equal(p.get('code_challenge_method'), 'S256');
    assert.match(p.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.equal(p.get('redirect_uri'), CALLBACK);
    assert.deepEqual(p.get('scope')?.split(' ').sort(), ['email', 'openid', 'profile']);
    const state = p.get('state') ?? '';
    const nonce = p.get('nonce') ?? '';
    assert.ok(state.length > 40 && nonce.length > 20);
    const { line } = cookieOf(start);
    assert.match(line, /HttpOnly/i);
    assert.match(line, /SameSite=Lax/i);
    assert.match(line, /Path=\/api\/auth\/oidc\/test\/callback/);
    const rows = JSON.stringify((await ctx.database.db.query(`SELECT * FROM oidc_flows`)).rows);
    assert.ok(!rows.includes(state.split('.')[1]!), 'the state secret is stored only as a hash');
    assert.ok(!rows.includes(nonce), 'the nonce is encrypted at rest');
  });

  test('happy path, new user: a verified email creates a verified account; the login code gives an ordinary session (amr fed), once', async () => {
    const email = uniqueEmail('new');
    const sub = `sub-${randomBytes(4).toString('hex')}`;
    const code = await signIn({ sub, email, email_verified: true, name: 'New Person' });
    const stored = JSON.stringify((await ctx.database.db.query(`SELECT * FROM oidc_login_codes`)).rows);
    assert.ok(!stored.includes(code.split('.')[1]!), 'only a hash of the login code is stored');

    const res = await exchange(code);
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json<{ user: { id: string; email: string; name: string; emailVerified: boolean }; accessToken: string; refreshToken: string; sessionId: string }>();
    assert.equal(body.user.email, email);
    assert.equal(body.user.name, 'New Person');
    assert.equal(body.user.emailVerified, true);
    const me = await ctx.app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(body.accessToken) });
    assert.equal(me.statusCode, 200, 'the same pipeline accepts the session');
    const amr = await ctx.database.db.query<{ amr: string[] }>(`SELECT amr FROM sessions WHERE id = $1`, [body.sessionId]);
    assert.deepEqual(amr.rows[0]?.amr, ['fed']);
    const refreshed = await ctx.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: body.refreshToken } });
    assert.equal(refreshed.statusCode, 200, 'an ordinary refresh token');

    const again = await exchange(code);
    assert.equal(again.statusCode, 401, 'the login code is single use');
    assert.equal(errorBody(again).code, 'invalid_token');

    const mine = await identities(body.accessToken);
    assert.deepEqual(mine.map((i) => [i.provider, i.email]), [['test', email]]);
    // Signing in again with the same identity reaches the same account.
    const second = await exchange(await signIn({ sub, email, email_verified: true }));
    assert.equal(second.json<{ user: { id: string } }>().user.id, body.user.id);

    const audit = await waitFor(async () => {
      const rows = (await ctx.database.db.query<{ action: string }>(`SELECT action FROM audit_log WHERE target = $1`, [`oidc_identity:${mine[0]!.id}`])).rows;
      return rows.length > 0 ? rows : null;
    });
    assert.deepEqual(audit.map((r) => r.action), ['oidc.linked']);
  });

  test('link: a verified provider email signs in to the existing account with that verified address, and links the identity', async () => {
    const user = await signUp(ctx.app, 'linkme');
    await ctx.database.db.query(`UPDATE users SET email_verified_at = now() WHERE id = $1`, [user.id]);
    const sub = `sub-${randomBytes(4).toString('hex')}`;
    const res = await exchange(await signIn({ sub, email: user.email.toUpperCase(), email_verified: true }));
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json<{ user: { id: string } }>().user.id, user.id);
    const linked = await identities(user.accessToken);
    assert.equal(linked.length, 1);

    // The account has a password, so the identity may go; then it is gone.
    const del = await ctx.app.inject({ method: 'DELETE', url: `/api/auth/me/identities/${linked[0]!.id}`, headers: bearer(user.accessToken) });
    assert.equal(del.statusCode, 204, del.body);
    assert.deepEqual(await identities(user.accessToken), []);
    const login = await ctx.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: TEST_PASSWORD } });
    assert.equal(login.statusCode, 200);
  });

  test('an existing account whose own address is unverified is never linked (pre-registration takeover)', async () => {
    const squatter = await signUp(ctx.app, 'squat');
    const sub = `sub-${randomBytes(4).toString('hex')}`;
    const { back, cookie } = await authorize({ sub, email: squatter.email, email_verified: true });
    const res = await get(pathOf(back), cookie);
    assert.equal(res.statusCode, 409);
    assert.equal(errorBody(res).code, 'duplicate_resource');
    assert.deepEqual(await identityRows(sub), []);
  });

  test('unverified email at the provider → 403 oidc_email_unverified; nothing is linked or created', async () => {
    const owner = await signUp(ctx.app, 'victim');
    await ctx.database.db.query(`UPDATE users SET email_verified_at = now() WHERE id = $1`, [owner.id]);
    for (const [label, claims] of [
      ['victim address, unverified', { email: owner.email, email_verified: false }],
      ['verified as a string, not a boolean', { email: owner.email, email_verified: 'true' }],
      ['new address, unverified', { email: uniqueEmail('unverified'), email_verified: false }],
    ] as const) {
      const sub = `sub-${randomBytes(4).toString('hex')}`;
      const { back, cookie } = await authorize({ sub, ...claims });
      const res = await get(pathOf(back), cookie);
      assert.equal(res.statusCode, 403, label);
      assert.equal(errorBody(res).code, 'oidc_email_unverified', label);
      assert.deepEqual(await identityRows(sub), [], label);
    }
    assert.deepEqual(await identities(owner.accessToken), []);
    const created = await ctx.database.db.query(`SELECT 1 FROM users WHERE email_normalized LIKE 'unverified-%'`);
    assert.equal(created.rows.length, 0);
  });

  test('tampered state, a missing or foreign binding cookie, and a state for another provider are refused', async () => {
    const sub = `sub-${randomBytes(4).toString('hex')}`;
    const { back, cookie } = await authorize({ sub, email: uniqueEmail('tamper'), email_verified: true });
    const tampered = new URL(back);
    const state = tampered.searchParams.get('state')!;
    tampered.searchParams.set('state', `${state.slice(0, -2)}${state.endsWith('AA') ? 'BB' : 'AA'}`);
    const cases: Array<[string, string, string | undefined]> = [
      ['tampered state', pathOf(tampered), cookie],
      ['no binding cookie (login CSRF)', pathOf(back), undefined],
      ['another browser\'s cookie', pathOf(back), `boka_oidc_test=${randomBytes(32).toString('base64url')}`],
      ['state of provider test at provider down', pathOf(back).replace('/oidc/test/', '/oidc/down/'), cookie.replace('boka_oidc_test', 'boka_oidc_down')],
    ];
    for (const [label, url, c] of cases) {
      const res = await get(url, c);
      assert.equal(res.statusCode, 401, `${label}: ${res.body}`);
      assert.equal(errorBody(res).code, 'oidc_login_failed', label);
      assert.deepEqual(errorBody(res).details, { reason: 'state' }, label);
    }
    // None of those spent the flow: the genuine callback still works, once.
    const ok = await get(pathOf(back), cookie);
    assert.equal(ok.statusCode, 302, ok.body);
    assert.deepEqual((await identityRows(sub)).length, 1);
  });

  test('replayed callback (same code and state) is refused; a replayed code under a fresh state is refused by the provider', async () => {
    const account = { sub: `sub-${randomBytes(4).toString('hex')}`, email: uniqueEmail('replay'), email_verified: true };
    const first = await authorize(account);
    assert.equal((await get(pathOf(first.back), first.cookie)).statusCode, 302);
    const replay = await get(pathOf(first.back), first.cookie);
    assert.equal(replay.statusCode, 401);
    assert.deepEqual(errorBody(replay).details, { reason: 'state' });

    // A second, genuine flow, delivered with the first flow's (already redeemed) code.
    const second = await authorize(account);
    const mixed = new URL(second.back);
    mixed.searchParams.set('code', first.back.searchParams.get('code')!);
    const res = await get(pathOf(mixed), second.cookie);
    assert.equal(res.statusCode, 401, res.body);
    assert.equal(errorBody(res).code, 'oidc_login_failed');
    assert.deepEqual(errorBody(res).details, { reason: 'exchange' });
    assert.ok(!res.body.includes(first.back.searchParams.get('code')!), 'the code is not echoed');
  });

  test('two racing callbacks with the same state: exactly one gets a login code', async () => {
    const sub = `sub-${randomBytes(4).toString('hex')}`;
    const { back, cookie } = await authorize({ sub, email: uniqueEmail('race'), email_verified: true });
    const answers = await Promise.all([get(pathOf(back), cookie), get(pathOf(back), cookie), get(pathOf(back), cookie)]);
    assert.deepEqual(answers.map((r) => r.statusCode).sort(), [302, 401, 401]);
    assert.equal((await identityRows(sub)).length, 1);
  });

  test('a login code expires after 60 seconds', async () => {
    const code = await signIn({ sub: `sub-${randomBytes(4).toString('hex')}`, email: uniqueEmail('slow'), email_verified: true });
    clock.advance(60_001);
    const res = await exchange(code);
    assert.equal(res.statusCode, 401);
    assert.equal(errorBody(res).code, 'invalid_token');
  });

  test('the provider\'s own refusal (error=access_denied) is a clean 401 and spends the flow', async () => {
    const start = await get('/api/auth/oidc/test/start');
    const state = new URL(start.headers.location as string).searchParams.get('state')!;
    const cookie = cookieOf(start).pair;
    const url = `/api/auth/oidc/test/callback?${new URLSearchParams({ state, error: 'access_denied', error_description: 'The user said no', iss: idp.issuer })}`;
    const res = await get(url, cookie);
    assert.equal(res.statusCode, 401, res.body);
    assert.equal(errorBody(res).code, 'oidc_login_failed');
    assert.deepEqual(errorBody(res).details, { reason: 'provider_error' });
    assert.deepEqual(errorBody(await get(url, cookie)).details, { reason: 'state' });
  });

  test('an expired flow is refused', async () => {
    const { back, cookie } = await authorize({ sub: `sub-${randomBytes(4).toString('hex')}`, email: uniqueEmail('late'), email_verified: true });
    clock.advance(10 * 60_000 + 1);
    const res = await get(pathOf(back), cookie);
    assert.equal(res.statusCode, 401);
    assert.deepEqual(errorBody(res).details, { reason: 'state' });
  });

  test('a user with MFA on gets the existing MFA challenge instead of tokens', async () => {
    const user = await signUp(ctx.app, 'mfa');
    await ctx.database.db.query(`UPDATE users SET email_verified_at = now() WHERE id = $1`, [user.id]);
    const post = (url: string, payload: object) => ctx.app.inject({ method: 'POST', url, payload, headers: bearer(user.accessToken) });
    const { secret } = (await post('/api/auth/mfa/totp/setup', {})).json<{ secret: string }>();
    const totp = new TOTP({ secret: Secret.fromBase32(secret) });
    assert.equal((await post('/api/auth/mfa/totp/enable', { code: totp.generate({ timestamp: clock.now() }) })).statusCode, 200);

    const res = await exchange(await signIn({ sub: `sub-${randomBytes(4).toString('hex')}`, email: user.email, email_verified: true }));
    assert.equal(res.statusCode, 401, res.body);
    assert.equal(errorBody(res).code, 'mfa_required');
    const { challengeToken } = errorBody(res).details as { challengeToken: string };
    clock.advance(30_000);
    const done = await ctx.app.inject({ method: 'POST', url: '/api/auth/mfa/verify', payload: { challengeToken, code: totp.generate({ timestamp: clock.now() }) } });
    assert.equal(done.statusCode, 200, done.body);
    assert.equal(done.json<{ user: { id: string } }>().user.id, user.id);
    const amr = await ctx.database.db.query<{ amr: string[] }>(`SELECT amr FROM sessions WHERE id = $1`, [done.json<{ sessionId: string }>().sessionId]);
    assert.deepEqual(amr.rows[0]?.amr, ['fed', 'otp'], 'the session records both factors (RFC 8176)');
  });

  test('the only way into an account cannot be unlinked; someone else\'s identity answers 404', async () => {
    const code = await signIn({ sub: `sub-${randomBytes(4).toString('hex')}`, email: uniqueEmail('only'), email_verified: true });
    const { accessToken } = (await exchange(code)).json<{ accessToken: string }>();
    const [only] = await identities(accessToken);
    const del = await ctx.app.inject({ method: 'DELETE', url: `/api/auth/me/identities/${only!.id}`, headers: bearer(accessToken) });
    assert.equal(del.statusCode, 422);
    assert.equal(errorBody(del).code, 'invalid_state');
    assert.equal((await identities(accessToken)).length, 1);

    const other = await signUp(ctx.app, 'other');
    for (const id of [only!.id, only!.id.toUpperCase(), 'nope']) {
      const res = await ctx.app.inject({ method: 'DELETE', url: `/api/auth/me/identities/${id}`, headers: bearer(other.accessToken) });
      assert.equal(res.statusCode, 404, id);
      assert.equal(errorBody(res).code, 'not_found');
    }
    assert.equal((await identities(accessToken)).length, 1);
  });

  test('unknown provider → 404; a provider that does not answer → 424 oidc_provider_unavailable, never a 5xx', async () => {
    for (const url of ['/api/auth/oidc/nope/start', '/api/auth/oidc/nope/callback?code=x&state=y', '/api/auth/oidc/NOPE%2F/start']) {
      const res = await get(url);
      assert.equal(res.statusCode, 404, url);
      assert.equal(errorBody(res).code, 'not_found');
    }
    const down = await get('/api/auth/oidc/down/start');
    assert.equal(down.statusCode, 424, down.body);
    assert.equal(errorBody(down).code, 'oidc_provider_unavailable');
    const again = await get('/api/auth/oidc/down/start');
    assert.equal(again.statusCode, 424, 'still closed (fails fast during the back-off)');
    const providers = (await get('/api/auth/oidc/providers')).json<{ items: Array<{ id: string; name: string }> }>();
    assert.deepEqual(providers.items, [{ id: 'test', name: 'Test IdP' }, { id: 'down', name: 'down' }]);
  });

  test('the callback refuses unknown query parameters and over-long values (400), and the exchange a malformed code (401)', async () => {
    assert.equal((await get('/api/auth/oidc/test/callback?code=a&state=b&evil=1')).statusCode, 400);
    assert.equal((await get(`/api/auth/oidc/test/callback?code=a&state=${'x'.repeat(600)}`)).statusCode, 400);
    for (const code of ['', 'olc_nope', `olc_${'0'.repeat(36)}.${'a'.repeat(43)}`]) {
      const res = await exchange(code);
      assert.ok(res.statusCode === 400 || res.statusCode === 401, `${code}: ${res.statusCode}`);
    }
  });

  test('no state, nonce, code, binding cookie, login code, token or client secret reaches a log line or an audit row', async () => {
    await ctx.app.close(); // flushes the audit writer
    assert.ok(secrets.length > 40, `collected ${secrets.length} secrets`);
    assert.ok(lines.length > 50, 'trace logging was on');
    const audit = JSON.stringify((await ctx.database.db.query(`SELECT * FROM audit_log`)).rows);
    assert.ok(audit.includes('oidc.refused') && audit.includes('oidc.linked'));
    const logs = lines.join('');
    for (const secret of secrets) {
      assert.ok(!logs.includes(secret), `a log line contains ${secret.slice(0, 8)}…`);
      assert.ok(!audit.includes(secret), `an audit row contains ${secret.slice(0, 8)}…`);
    }
  });
});
