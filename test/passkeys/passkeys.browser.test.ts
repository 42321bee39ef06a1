/**
 * Passkeys in a real headless Chromium (Debian `chromium` + playwright-core) with the DevTools
 * virtual authenticator (CDP `WebAuthn.addVirtualAuthenticator`: CTAP2, internal, resident
 * keys, user verification). The page is served by this test on http://localhost:<port>, the
 * same origin as the API (requests are handed to the real app with `inject`), and uses plain
 * `navigator.credentials` with base64url helpers. Sign up, register a passkey, sign out, sign in
 * without a password, use the passkey as the MFA second factor, revoke it and see sign-in
 * refused. Without Chromium the test is skipped, except under CI=true.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createTestApp, TEST_PASSWORD, uniqueEmail, type TestContext } from '../helpers/app.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const missing = existsSync(CHROMIUM) ? null : `Chromium not found at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`;
if (missing && process.env.CI === 'true') throw new Error(`${missing}: the passkey browser test cannot be skipped under CI=true`);

const scratch = mkdtempSync(join(tmpdir(), 'boka-passkeys-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** The page: fetch against the same origin, navigator.credentials, base64url both ways. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>Boka passkeys</title><script>
const b64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
const unb64 = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4)), (c) => c.charCodeAt(0));
async function api(method, url, body, token, extra) {
  const headers = { ...(extra || {}) };
  if (body != null) headers['content-type'] = 'application/json';
  if (token) headers.authorization = 'Bearer ' + token;
  const res = await fetch(url, { method, headers, body: body == null ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}
const descriptors = (list) => (list || []).map((d) => ({ ...d, id: unb64(d.id) }));
async function create(options) {
  const cred = await navigator.credentials.create({ publicKey: {
    ...options, challenge: unb64(options.challenge), user: { ...options.user, id: unb64(options.user.id) },
    excludeCredentials: descriptors(options.excludeCredentials),
  } });
  return { id: cred.id, rawId: b64(cred.rawId), type: cred.type, authenticatorAttachment: cred.authenticatorAttachment || undefined,
    response: { clientDataJSON: b64(cred.response.clientDataJSON), attestationObject: b64(cred.response.attestationObject), transports: cred.response.getTransports() },
    clientExtensionResults: cred.getClientExtensionResults() };
}
async function get(options) {
  const cred = await navigator.credentials.get({ publicKey: { ...options, challenge: unb64(options.challenge), allowCredentials: descriptors(options.allowCredentials) } });
  const r = cred.response;
  return { id: cred.id, rawId: b64(cred.rawId), type: cred.type, authenticatorAttachment: cred.authenticatorAttachment || undefined,
    response: { clientDataJSON: b64(r.clientDataJSON), authenticatorData: b64(r.authenticatorData), signature: b64(r.signature), ...(r.userHandle ? { userHandle: b64(r.userHandle) } : {}) },
    clientExtensionResults: cred.getClientExtensionResults() };
}
window.boka = {
  api,
  async registerPasskey(token, name) {
    const options = await api('POST', '/api/auth/passkeys/registration/options', {}, token);
    if (options.status !== 200) return options;
    return api('POST', '/api/auth/passkeys/registration/verify', { name, response: await create(options.body) }, token);
  },
  async signInWithPasskey() {
    const options = await api('POST', '/api/auth/passkeys/authentication/options', {});
    return api('POST', '/api/auth/passkeys/authentication/verify', { response: await get(options.body) });
  },
  async signInWithPasskeyCookie() {
    const options = await api('POST', '/api/auth/passkeys/authentication/options', {});
    return api('POST', '/api/auth/passkeys/authentication/verify', { response: await get(options.body) }, null, { 'x-boka-session': 'cookie' });
  },
  async deleteAccountWithPasskey(token) {
    const options = await api('POST', '/api/auth/passkeys/reauthentication/options', {}, token);
    if (options.status !== 200) return options;
    return api('DELETE', '/api/auth/me', { passkey: await get(options.body) }, token);
  },
  async completeMfaWithPasskey(challengeToken) {
    const options = await api('POST', '/api/auth/mfa/passkey/options', { challengeToken });
    if (options.status !== 200) return options;
    return api('POST', '/api/auth/mfa/passkey/verify', { challengeToken, response: await get(options.body) });
  },
};
</script><p>Boka passkey test page</p>`;

interface Answer { status: number; body: Record<string, unknown> & { accessToken?: string; sessionId?: string; details?: { challengeToken?: string } } }

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

describe('passkeys in headless Chromium with a virtual authenticator', () => {
  it('sign up, register, sign out, sign in without a password, second factor, revoke', { skip: missing ?? false, timeout: 180_000 }, async () => {
    let ctx: TestContext | undefined;
    // Same origin for page and API: the server hands /api/* to the real app.
    const server: Server = createServer((req, res) => {
      void (async () => {
        if (req.url === '/' && req.method === 'GET') {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
          return;
        }
        if (!ctx || !req.url?.startsWith('/api/')) {
          res.writeHead(404).end();
          return;
        }
        const body = await readBody(req);
        const answer = await ctx.app.inject({
          method: req.method as 'GET',
          url: req.url,
          // What the browser sends for cookie mode and the CSRF check goes through too.
          headers: Object.fromEntries(['content-type', 'authorization', 'cookie', 'origin', 'sec-fetch-site', 'x-boka-session']
            .filter((h) => req.headers[h] !== undefined).map((h) => [h, String(req.headers[h])])),
          ...(body ? { payload: body } : {}),
        });
        const setCookie = answer.headers['set-cookie'];
        res.writeHead(answer.statusCode, {
          'content-type': String(answer.headers['content-type'] ?? 'application/json'),
          ...(setCookie !== undefined ? { 'set-cookie': setCookie as string | string[] } : {}),
        }).end(answer.rawPayload);
      })().catch(() => res.writeHead(502).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const origin = `http://localhost:${port}`;
    let context: BrowserContext | undefined;
    try {
      ctx = await createTestApp({ env: { WEBAUTHN_ORIGINS: origin, WEBAUTHN_RP_ID: 'localhost', AUTH_SIGNUP_MODE: 'open', CORS_ORIGINS: origin } });
      context = await chromium.launchPersistentContext(join(scratch, 'profile'), { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
      const page: Page = context.pages()[0] ?? (await context.newPage());
      await page.goto(`${origin}/`);
      const cdp = await context.newCDPSession(page);
      await cdp.send('WebAuthn.enable');
      const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
      });
      // A string expression, not a function: the test runner's transpiled functions do not
      // survive serialisation into the page.
      const call = (fn: string, ...args: unknown[]) => page.evaluate(`window.boka.${fn}(...${JSON.stringify(args)})`) as Promise<Answer>;

      // Sign up (open mode) → a session.
      const email = uniqueEmail('browser');
      const signup = await call('api', 'POST', '/api/auth/signup', { email, password: TEST_PASSWORD, name: 'Browser' });
      assert.equal(signup.status, 201, JSON.stringify(signup.body));
      const userId = (signup.body.user as { id: string }).id;
      let token = signup.body.accessToken!;

      // Register a passkey in the virtual authenticator.
      const registered = await call('registerPasskey', token, 'Virtual authenticator');
      assert.equal(registered.status, 201, JSON.stringify(registered.body));
      const passkeyId = registered.body.id as string;
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
      assert.equal(credentials.length, 1);
      assert.equal(credentials[0]!.isResidentCredential, true);

      // Sign out, then sign in with the passkey alone (usernameless).
      assert.equal((await call('api', 'POST', '/api/auth/logout', undefined, token)).status, 204);
      const passwordless = await call('signInWithPasskey');
      assert.equal(passwordless.status, 200, JSON.stringify(passwordless.body));
      assert.equal((passwordless.body.user as { id: string }).id, userId);
      token = passwordless.body.accessToken!;
      const me = await call('api', 'GET', '/api/auth/me', undefined, token);
      assert.equal(me.status, 200);
      const amr = async (sessionId: string) =>
        [...(await ctx!.database.db.query<{ amr: string[] }>(`SELECT amr FROM sessions WHERE id = $1`, [sessionId])).rows[0]!.amr].sort();
      assert.deepEqual(await amr(passwordless.body.sessionId!), ['hwk', 'user']);

      // Turn TOTP on; a password login then asks for a second factor, which the passkey gives.
      const setup = await call('api', 'POST', '/api/auth/mfa/totp/setup', {}, token);
      const code = new TOTP({ secret: Secret.fromBase32(setup.body.secret as string) }).generate();
      assert.equal((await call('api', 'POST', '/api/auth/mfa/totp/enable', { code }, token)).status, 200);
      const login = await call('api', 'POST', '/api/auth/login', { email, password: TEST_PASSWORD });
      assert.equal(login.status, 401);
      assert.equal(login.body.code, 'mfa_required');
      const mfa = await call('completeMfaWithPasskey', login.body.details!.challengeToken!);
      assert.equal(mfa.status, 200, JSON.stringify(mfa.body));
      assert.deepEqual(await amr(mfa.body.sessionId!), ['hwk', 'pwd']);
      token = mfa.body.accessToken!;

      // Revoke it (the password remains a way in), and the authenticator's credential no longer signs in.
      const list = await call('api', 'GET', '/api/auth/passkeys', undefined, token);
      assert.deepEqual((list.body.items as Array<{ id: string }>).map((p) => p.id), [passkeyId]);
      assert.equal((await call('api', 'DELETE', `/api/auth/passkeys/${passkeyId}`, undefined, token)).status, 204);
      const refused = await call('signInWithPasskey');
      assert.equal(refused.status, 401);
      assert.equal(refused.body.code, 'invalid_credentials');

      // Issue 18 follow-up: cookie mode for a passkey sign-in (the refresh token only in the
      // HttpOnly cookie, rotated by a same-origin POST), then deletion re-authenticated by the passkey.
      const again = await call('registerPasskey', token, 'Virtual authenticator 2');
      assert.equal(again.status, 201, JSON.stringify(again.body));
      const cookieSignIn = await call('signInWithPasskeyCookie');
      assert.equal(cookieSignIn.status, 200, JSON.stringify(cookieSignIn.body));
      assert.equal(cookieSignIn.body.refreshToken, undefined, 'no refresh token for the page to hold');
      const stored = (await context.cookies()).find((c) => c.name === '__Secure-boka_refresh');
      assert.ok(stored?.httpOnly && stored.path === '/api/auth/refresh', JSON.stringify(stored));
      const rotated = await call('api', 'POST', '/api/auth/refresh', {});
      assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
      assert.equal(rotated.body.refreshToken, undefined);
      const deleted = await call('deleteAccountWithPasskey', rotated.body.accessToken!);
      assert.equal(deleted.status, 204, JSON.stringify(deleted.body));
      const afterDeletion = await call('signInWithPasskey');
      assert.equal(afterDeletion.status, 401, 'the deleted account\'s passkeys are gone');
    } finally {
      await context?.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await ctx?.close();
    }
  });
});
