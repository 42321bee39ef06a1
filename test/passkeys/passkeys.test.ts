/**
 * Passkeys over HTTP (W3C WebAuthn Level 2, ADR 0016) with a software authenticator that signs
 * real responses: registration, usernameless sign-in, MFA second factor, re-authentication,
 * list and removal, and every refusal: unknown, replayed, expired or foreign challenges, another
 * user's credential, a counter that does not increase (§6.1.1 / §7.2 step 21), the last way in.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { createEventHub, NO_META, type BokaEvents } from '../../src/shared/events.js';
import { createPasskeyService } from '../../src/passkeys/passkeys.service.js';
import {
  isAcceptedAttestation, isRecentSession, judgeCounter, readClientChallenge, userHandleOf,
} from '../../src/passkeys/passkeys.core.js';
import { loadConfig, ConfigError } from '../../src/config/config.js';
import { bearer, createTenant, createTestApp, errorBody, signUp, TEST_PASSWORD, type SignedInUser, type TestContext } from '../helpers/app.js';
import { createManualClock, waitFor } from '../helpers/doubles.js';
import { createSoftAuthenticator, type SoftCredential } from './soft-authenticator.js';

const RP_ID = 'example.test';
const ORIGIN = 'https://app.example.test';

describe('passkey rules (pure core)', () => {
  test('counter: both zero passes; otherwise it must strictly increase (W3C WebAuthn L2 §6.1.1)', () => {
    const table: Array<[number, number, 'ok' | 'regressed']> = [
      [0, 0, 'ok'], [0, 1, 'ok'], [5, 6, 'ok'], [5, 5, 'regressed'], [5, 4, 'regressed'], [5, 0, 'regressed'], [0, 0xffffffff, 'ok'],
    ];
    for (const [stored, received, verdict] of table) assert.equal(judgeCounter(stored, received), verdict, `${stored} → ${received}`);
  });

  test('the challenge is read from clientDataJSON only when it is plausible', () => {
    const enc = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
    assert.equal(readClientChallenge(enc({ challenge: 'abc_-1' })), 'abc_-1');
    assert.equal(readClientChallenge(enc('not json')), null);
    assert.equal(readClientChallenge(enc({ challenge: 'a'.repeat(129) })), null);
    assert.equal(readClientChallenge(enc({ challenge: 'a+b/' })), null);
    assert.equal(readClientChallenge(enc({ challenge: 5 })), null);
    assert.equal(readClientChallenge(enc(null)), null);
  });

  test('recency, attestation and user handle rules (removal: test/auth/auth-depth.test.ts)', () => {
    assert.equal(isRecentSession(0, 600_000), true);
    assert.equal(isRecentSession(0, 600_001), false);
    assert.equal(isAcceptedAttestation('none', false), true);
    assert.equal(isAcceptedAttestation('packed', false), true);
    assert.equal(isAcceptedAttestation('packed', true), false);
    assert.equal(isAcceptedAttestation('tpm', true), false);
    assert.deepEqual([...userHandleOf('0192e4dd-7ecf-7b4b-a3be-7621a779c265')].length, 16);
  });

  test('config: origins must be bare, https (http only on localhost), inside the RP ID', () => {
    const base = { NODE_ENV: 'test', BOKA_DATA_DIR: 'memory', BOKA_SECRET_KEY: randomBytes(32).toString('base64url') };
    assert.deepEqual(loadConfig({ ...base, PORT: '4000' }).webauthn, { rpId: 'localhost', rpName: 'Boka', origins: ['http://localhost:4000'] });
    assert.equal(loadConfig({ ...base, WEBAUTHN_ORIGINS: ORIGIN, WEBAUTHN_RP_ID: RP_ID }).webauthn.rpId, RP_ID);
    for (const bad of [
      { WEBAUTHN_ORIGINS: 'http://app.example.test' },
      { WEBAUTHN_ORIGINS: 'https://app.example.test/path' },
      { WEBAUTHN_ORIGINS: 'https://evil.test', WEBAUTHN_RP_ID: RP_ID },
      { WEBAUTHN_ORIGINS: 'not a url' },
    ]) assert.throws(() => loadConfig({ ...base, ...bad }), ConfigError, JSON.stringify(bad));
  });
});

describe('passkeys over HTTP', () => {
  const clock = createManualClock(Date.UTC(2030, 0, 1));
  const events = createEventHub();
  const seen: Array<BokaEvents['passkey.counter_regression']> = [];
  events.on('passkey.counter_regression', (e) => seen.push(e));
  const authenticator = createSoftAuthenticator({ rpId: RP_ID, origin: ORIGIN });
  let ctx: TestContext;
  let alice: SignedInUser;
  let bob: SignedInUser;
  let aliceKey: SoftCredential;

  const post = (url: string, payload: object, token?: string) => ctx.app.inject({ method: 'POST', url, payload, headers: token ? bearer(token) : {} });
  const get = (url: string, token: string) => ctx.app.inject({ method: 'GET', url, headers: bearer(token) });
  const del = (url: string, token: string) => ctx.app.inject({ method: 'DELETE', url, headers: bearer(token) });
  const signInOptions = async () => (await post('/api/auth/passkeys/authentication/options', {})).json<{ challenge: string }>();

  async function register(user: SignedInUser, name = 'Laptop', counting = false) {
    const options = (await post('/api/auth/passkeys/registration/options', {}, user.accessToken)).json();
    const { credential, response } = authenticator.create(options, {}, counting);
    const res = await post('/api/auth/passkeys/registration/verify', { name, response }, user.accessToken);
    assert.equal(res.statusCode, 201, res.body);
    return { credential, passkey: res.json<{ id: string }>() };
  }

  /** A new sign-in (the manual clock outruns the 10-minute access tokens of earlier ones). */
  async function signInAgain(user: SignedInUser): Promise<SignedInUser> {
    const res = await post('/api/auth/login', { email: user.email, password: TEST_PASSWORD });
    assert.equal(res.statusCode, 200, res.body);
    const { accessToken, refreshToken, sessionId } = res.json<{ accessToken: string; refreshToken: string; sessionId: string }>();
    return { ...user, accessToken, refreshToken, sessionId };
  }

  async function sessionAmr(sessionId: string): Promise<string[]> {
    const rows = await ctx.database.db.query<{ amr: string[] }>(`SELECT amr FROM sessions WHERE id = $1`, [sessionId]);
    return [...rows.rows[0]!.amr].sort();
  }

  before(async () => {
    ctx = await createTestApp({ deps: { clock, events }, env: { WEBAUTHN_ORIGINS: `${ORIGIN},https://other.example.test`, WEBAUTHN_RP_ID: RP_ID } });
    alice = await signUp(ctx.app, 'alice');
    bob = await signUp(ctx.app, 'bob');
  });
  after(() => ctx.close());

  test('registration: options name the RP and the user by an opaque handle; the verified passkey is listed', async () => {
    const res = await post('/api/auth/passkeys/registration/options', {}, alice.accessToken);
    assert.equal(res.statusCode, 200, res.body);
    const options = res.json();
    assert.equal(options.rp.id, RP_ID);
    assert.equal(options.user.id, Buffer.from(userHandleOf(alice.id)).toString('base64url'));
    assert.equal(options.user.name, alice.email);
    assert.deepEqual(options.authenticatorSelection, { residentKey: 'required', userVerification: 'required', requireResidentKey: true });
    assert.equal(options.attestation, 'none');
    assert.match(options.challenge, /^[A-Za-z0-9_-]{43}$/);

    const { credential, response } = authenticator.create(options, {}, true);
    const created = await post('/api/auth/passkeys/registration/verify', { name: '  Laptop  ', response }, alice.accessToken);
    assert.equal(created.statusCode, 201, created.body);
    aliceKey = credential;
    const list = (await get('/api/auth/passkeys', alice.accessToken)).json<{ items: Array<Record<string, unknown>> }>();
    assert.equal(list.items.length, 1);
    assert.deepEqual(Object.keys(list.items[0]!).sort(), ['backedUp', 'createdAt', 'id', 'lastUsedAt', 'name', 'transports']);
    assert.equal(list.items[0]!.name, 'Laptop');
    assert.deepEqual(list.items[0]!.transports, ['internal']);
    assert.equal(list.items[0]!.lastUsedAt, null);
    // Nothing of it is another user's business.
    assert.deepEqual((await get('/api/auth/passkeys', bob.accessToken)).json(), { items: [] });
    // The same credential cannot be registered twice, and the second options exclude it.
    const again = (await post('/api/auth/passkeys/registration/options', {}, alice.accessToken)).json();
    assert.deepEqual(again.excludeCredentials.map((c: { id: string }) => c.id), [credential.id.toString('base64url')]);
  });

  test('registration refusals: replayed, foreign or unknown challenge; wrong origin or RP; no user verification; certificate attestation', async () => {
    const options = (await post('/api/auth/passkeys/registration/options', {}, bob.accessToken)).json();
    const { response } = authenticator.create(options);
    // Bob's challenge is not Alice's to use.
    const foreign = await post('/api/auth/passkeys/registration/verify', { name: 'x', response }, alice.accessToken);
    // 422, not 401: the caller's session is fine, the authenticator's answer is not.
    assert.equal(foreign.statusCode, 422);
    assert.deepEqual([errorBody(foreign).code, errorBody(foreign).details], ['passkey_rejected', { reason: 'challenge' }]);
    // The failed attempt did not burn Bob's challenge (it was never Alice's to consume)…
    const ok = await post('/api/auth/passkeys/registration/verify', { name: 'Phone', response }, bob.accessToken);
    assert.equal(ok.statusCode, 201, ok.body);
    // …and a challenge is used once.
    const replay = await post('/api/auth/passkeys/registration/verify', { name: 'Phone', response }, bob.accessToken);
    assert.deepEqual(errorBody(replay).details, { reason: 'challenge' });

    const unknown = authenticator.create({ ...options, challenge: randomBytes(32).toString('base64url') });
    assert.deepEqual(errorBody(await post('/api/auth/passkeys/registration/verify', { name: 'x', response: unknown.response }, bob.accessToken)).details, { reason: 'challenge' });

    const bent = [
      { origin: 'https://evil.test' },
      { rpId: 'evil.test' },
      { userVerified: false },
      { type: 'webauthn.get' },
      { attestation: { fmt: 'packed', attStmt: new Map<string, unknown>([['alg', -7], ['sig', new Uint8Array(8)], ['x5c', [new Uint8Array(8)]]]) } },
    ];
    for (const bend of bent) {
      const fresh = (await post('/api/auth/passkeys/registration/options', {}, bob.accessToken)).json();
      const res = await post('/api/auth/passkeys/registration/verify', { name: 'x', response: authenticator.create(fresh, bend).response }, bob.accessToken);
      assert.equal(res.statusCode, 422, JSON.stringify(bend));
      assert.deepEqual([errorBody(res).code, errorBody(res).details], ['passkey_rejected', { reason: 'attestation' }], JSON.stringify(bend));
    }
    assert.equal((await get('/api/auth/passkeys', bob.accessToken)).json().items.length, 1);
  });

  test('registration needs a recent sign-in (ASVS 4.0.3 3.7.1): an older session, refreshed, is refused', async () => {
    const carol = await signUp(ctx.app, 'carol');
    clock.advance(11 * 60_000);
    const refreshed = await post('/api/auth/refresh', { refreshToken: carol.refreshToken });
    assert.equal(refreshed.statusCode, 200);
    const res = await post('/api/auth/passkeys/registration/options', {}, refreshed.json().accessToken);
    assert.equal(res.statusCode, 403);
    assert.equal(errorBody(res).code, 'reauthentication_required');
    assert.deepEqual(errorBody(res).details, { maxSessionAgeSeconds: 600 });
    // A new sign-in is recent again.
    const login = await post('/api/auth/login', { email: carol.email, password: TEST_PASSWORD });
    assert.equal((await post('/api/auth/passkeys/registration/options', {}, login.json().accessToken)).statusCode, 200);
  });

  test('usernameless sign-in: same options for everyone, a session like login with amr hwk+user (RFC 8176)', async () => {
    alice = await signInAgain(alice);
    const first = await post('/api/auth/passkeys/authentication/options', {});
    const second = await post('/api/auth/passkeys/authentication/options', {});
    assert.equal(first.statusCode, 200);
    // No account named, no credential listed: nothing to enumerate.
    assert.deepEqual(Object.keys(first.json()).sort(), Object.keys(second.json()).sort());
    assert.deepEqual(first.json().allowCredentials ?? [], []);
    assert.equal(first.json().userVerification, 'required');
    assert.notEqual(first.json().challenge, second.json().challenge);

    const res = await post('/api/auth/passkeys/authentication/verify', { response: authenticator.assert(aliceKey, first.json()) });
    assert.equal(res.statusCode, 200, res.body);
    const body = res.json();
    assert.deepEqual(Object.keys(body).sort(), ['accessToken', 'expiresIn', 'refreshToken', 'sessionId', 'user']);
    assert.equal(body.user.id, alice.id);
    assert.deepEqual(await sessionAmr(body.sessionId), ['hwk', 'user']);
    const me = await get('/api/auth/me', body.accessToken);
    assert.equal(me.statusCode, 200);
    assert.equal(me.json().user.id, alice.id);
    const list = (await get('/api/auth/passkeys', body.accessToken)).json();
    assert.equal(list.items[0].lastUsedAt, new Date(clock.now()).toISOString());
  });

  test('sign-in refusals: replayed, expired, unknown, foreign-purpose challenge; unknown credential; no UV; wrong origin; wrong user handle', async () => {
    const options = await signInOptions();
    const response = authenticator.assert(aliceKey, options);
    assert.equal((await post('/api/auth/passkeys/authentication/verify', { response })).statusCode, 200);
    // Replay: the challenge is single use.
    const replay = await post('/api/auth/passkeys/authentication/verify', { response: authenticator.assert(aliceKey, options) });
    assert.equal(errorBody(replay).code, 'invalid_token');
    // Expired: five minutes.
    const stale = await signInOptions();
    clock.advance(5 * 60_000 + 1);
    assert.equal(errorBody(await post('/api/auth/passkeys/authentication/verify', { response: authenticator.assert(aliceKey, stale) })).code, 'invalid_token');
    // Never issued.
    const invented = authenticator.assert(aliceKey, { challenge: randomBytes(32).toString('base64url') });
    assert.equal(errorBody(await post('/api/auth/passkeys/authentication/verify', { response: invented })).code, 'invalid_token');
    // A re-authentication challenge of Alice's is not a sign-in challenge.
    const reauth = (await post('/api/auth/passkeys/reauthentication/options', {}, alice.accessToken)).json();
    assert.equal(errorBody(await post('/api/auth/passkeys/authentication/verify', { response: authenticator.assert(aliceKey, reauth) })).code, 'invalid_token');

    const stranger = authenticator.create({ challenge: 'x', user: { id: 'AAAA' } }).credential;
    const cases: Array<[string, () => Promise<object>]> = [
      ['unknown credential', async () => authenticator.assert(stranger, await signInOptions())],
      ['no user verification', async () => authenticator.assert(aliceKey, await signInOptions(), { userVerified: false })],
      ['wrong origin', async () => authenticator.assert(aliceKey, await signInOptions(), { origin: 'https://evil.test' })],
      ['wrong RP', async () => authenticator.assert(aliceKey, await signInOptions(), { rpId: 'evil.test' })],
      ['another user handle', async () => authenticator.assert(aliceKey, await signInOptions(), { userHandle: Buffer.from(userHandleOf(bob.id)).toString('base64url') })],
    ];
    for (const [what, make] of cases) {
      const res = await post('/api/auth/passkeys/authentication/verify', { response: await make() });
      assert.equal(res.statusCode, 401, what);
      assert.equal(errorBody(res).code, 'invalid_credentials', what);
    }
  });

  test('one assertion sent twice at once opens one session; expired challenges are cleaned up as new ones are issued', async () => {
    const response = authenticator.assert(aliceKey, await signInOptions());
    const answers = await Promise.all([0, 1].map(() => post('/api/auth/passkeys/authentication/verify', { response })));
    assert.deepEqual(answers.map((a) => a.statusCode).sort(), [200, 401]);
    const count = async () => Number((await ctx.database.db.query<{ n: string | number }>(`SELECT count(*) AS n FROM webauthn_challenges WHERE expires_at < $1`, [new Date(clock.now())])).rows[0]!.n);
    await signInOptions();
    clock.advance(5 * 60_000 + 1);
    const expired = await count();
    assert.ok(expired > 0);
    await signInOptions();
    assert.equal(await count(), Math.max(0, expired - 100));
  });

  test('a counter that does not increase is refused and audited as a possible clone (W3C WebAuthn L2 §7.2 step 21)', async () => {
    alice = await signInAgain(alice);
    const [{ id: passkeyId }] = (await get('/api/auth/passkeys', alice.accessToken)).json().items;
    await ctx.database.db.query(`UPDATE passkeys SET sign_count = 50 WHERE id = $1`, [passkeyId]);
    const res = await post('/api/auth/passkeys/authentication/verify', { response: authenticator.assert(aliceKey, await signInOptions(), { counter: 50 }) });
    assert.equal(res.statusCode, 401);
    assert.equal(errorBody(res).code, 'invalid_credentials');
    assert.deepEqual(seen.at(-1), { userId: alice.id, passkeyId, stored: 50, received: 50, meta: seen.at(-1)!.meta });
    await waitFor(async () => {
      const rows = await ctx.database.db.query(`SELECT 1 FROM audit_log WHERE action = 'passkey.counter_regression' AND actor_id = $1 AND outcome = 'denied'`, [alice.id]);
      return rows.rows.length > 0;
    });
    // A forged response (bad signature) with a low counter raises no alarm: the signature is checked first.
    const before = seen.length;
    const forged = authenticator.assert(aliceKey, await signInOptions(), { counter: 1 });
    forged.response.signature = Buffer.from('MEUCIQ', 'base64url').toString('base64url') + 'AAAA';
    assert.equal((await post('/api/auth/passkeys/authentication/verify', { response: forged })).statusCode, 401);
    assert.equal(seen.length, before);
    // The authenticator moving on past the stored value works again.
    aliceKey.counter = 50;
    assert.equal((await post('/api/auth/passkeys/authentication/verify', { response: authenticator.assert(aliceKey, await signInOptions()) })).statusCode, 200);
    const stored = await ctx.database.db.query<{ n: string | number }>(`SELECT sign_count AS n FROM passkeys WHERE id = $1`, [passkeyId]);
    assert.equal(Number(stored.rows[0]!.n), 51);
  });

  test('second factor: with TOTP on, a password login is completed by a passkey instead of a code (amr pwd+hwk)', async () => {
    const dave = await signUp(ctx.app, 'dave');
    const setup = (await post('/api/auth/mfa/totp/setup', {}, dave.accessToken)).json();
    const code = new TOTP({ secret: Secret.fromBase32(setup.secret) }).generate({ timestamp: clock.now() });
    assert.equal((await post('/api/auth/mfa/totp/enable', { code }, dave.accessToken)).statusCode, 200);
    const { credential } = await register(dave, 'Key');
    bob = await signInAgain(bob);
    const { credential: bobKey } = await register(bob, 'Bob 2');

    const login = await post('/api/auth/login', { email: dave.email, password: TEST_PASSWORD });
    assert.equal(errorBody(login).code, 'mfa_required');
    const { challengeToken } = errorBody(login).details as { challengeToken: string };
    const optionsRes = await post('/api/auth/mfa/passkey/options', { challengeToken });
    assert.equal(optionsRes.statusCode, 200, optionsRes.body);
    const options = optionsRes.json();
    assert.deepEqual(options.allowCredentials.map((c: { id: string }) => c.id), [credential.id.toString('base64url')]);

    // Another user's passkey (a valid signature over Dave's challenge) does not complete it.
    const foreign = await post('/api/auth/mfa/passkey/verify', { challengeToken, response: authenticator.assert(bobKey, options) });
    assert.equal(errorBody(foreign).code, 'invalid_credentials');
    const fresh = (await post('/api/auth/mfa/passkey/options', { challengeToken })).json();
    const done = await post('/api/auth/mfa/passkey/verify', { challengeToken, response: authenticator.assert(credential, fresh) });
    assert.equal(done.statusCode, 200, done.body);
    assert.equal(done.json().user.id, dave.id);
    assert.deepEqual(await sessionAmr(done.json().sessionId), ['hwk', 'pwd']);
    // The MFA challenge is single use, whichever factor completed it.
    const again = (await post('/api/auth/mfa/passkey/options', { challengeToken }));
    assert.equal(errorBody(again).code, 'invalid_token');
    // A sign-in challenge does not serve as a second-factor one.
    const other = errorBody(await post('/api/auth/login', { email: dave.email, password: TEST_PASSWORD })).details as { challengeToken: string };
    const wrongPurpose = await post('/api/auth/mfa/passkey/verify', { challengeToken: other.challengeToken, response: authenticator.assert(credential, await signInOptions()) });
    assert.equal(errorBody(wrongPurpose).code, 'invalid_credentials');
    // No passkey, no options: a user with TOTP only is told so (they know the password already).
    const erin = await signUp(ctx.app, 'erin');
    const erinSetup = (await post('/api/auth/mfa/totp/setup', {}, erin.accessToken)).json();
    await post('/api/auth/mfa/totp/enable', { code: new TOTP({ secret: Secret.fromBase32(erinSetup.secret) }).generate({ timestamp: clock.now() }) }, erin.accessToken);
    const erinLogin = errorBody(await post('/api/auth/login', { email: erin.email, password: TEST_PASSWORD })).details as { challengeToken: string };
    assert.equal(errorBody(await post('/api/auth/mfa/passkey/options', erinLogin)).code, 'invalid_state');
    assert.equal(errorBody(await post('/api/auth/mfa/passkey/options', { challengeToken: 'mfa_nope' })).code, 'invalid_token');
  });

  test('a passkey session satisfies a tenant MFA policy; a password-only session does not', async () => {
    const owner = await signUp(ctx.app, 'owner');
    const tenant = await createTenant(ctx.app, owner);
    const { credential } = await register(owner, 'Owner key');
    const policy = await ctx.app.inject({ method: 'PUT', url: `/api/tenants/${tenant.id}/security-policy`, headers: bearer(owner.accessToken), payload: { requireMfaFor: ['owner'] } });
    assert.equal(policy.statusCode, 200, policy.body);
    const members = `/api/tenants/${tenant.id}/invitations`;
    const withPassword = await ctx.app.inject({ method: 'POST', url: members, headers: bearer(owner.accessToken), payload: { email: 'x@example.test', role: 'staff' } });
    assert.equal(errorBody(withPassword).code, 'mfa_required');
    const signIn = await post('/api/auth/passkeys/authentication/verify', { response: authenticator.assert(credential, await signInOptions()) });
    const withPasskey = await ctx.app.inject({ method: 'POST', url: members, headers: bearer(signIn.json().accessToken), payload: { email: 'x@example.test', role: 'staff' } });
    assert.equal(withPasskey.statusCode, 201, withPasskey.body);
  });

  test('re-authentication: verifyPasskeyAssertion accepts only the user\'s own passkey over their own challenge', async () => {
    // The service as another capability (account deletion) would call it, on the app's database.
    const service = createPasskeyService({
      db: ctx.database.db, clock, events, webauthn: ctx.config.webauthn,
      sessions: { create: () => assert.fail('no session'), describe: () => assert.fail('no session') },
      guard: { begin: () => assert.fail('no guard'), clear: () => assert.fail('no guard') },
      mfa: { findChallengeUser: () => assert.fail('no mfa'), verifyChallengeWith: () => assert.fail('no mfa') },
      profiles: { findProfile: () => assert.fail('no profile') },
    });
    const options = (await post('/api/auth/passkeys/reauthentication/options', {}, alice.accessToken)).json();
    assert.deepEqual(options.allowCredentials.map((c: { id: string }) => c.id), [aliceKey.id.toString('base64url')]);
    // Bob's challenge, or a sign-in challenge, does not serve Alice.
    const bobOptions = (await post('/api/auth/passkeys/reauthentication/options', {}, bob.accessToken)).json();
    assert.equal(await service.verifyPasskeyAssertion(alice.id, authenticator.assert(aliceKey, bobOptions) as never, NO_META), false);
    assert.equal(await service.verifyPasskeyAssertion(alice.id, authenticator.assert(aliceKey, await signInOptions()) as never, NO_META), false);
    // Alice's challenge proven by Alice's key: once.
    const response = authenticator.assert(aliceKey, options);
    assert.equal(await service.verifyPasskeyAssertion(bob.id, response as never, NO_META), false);
    const again = (await post('/api/auth/passkeys/reauthentication/options', {}, alice.accessToken)).json();
    const good = authenticator.assert(aliceKey, again);
    assert.equal(await service.verifyPasskeyAssertion(alice.id, good as never, NO_META), true);
    assert.equal(await service.verifyPasskeyAssertion(alice.id, good as never, NO_META), false);
    // Without a passkey there is nothing to re-prove.
    assert.equal((await post('/api/auth/passkeys/reauthentication/options', {}, (await signUp(ctx.app, 'nokey')).accessToken)).statusCode, 422);
  });

  test('list and revoke: ids are canonical UUIDs, another user\'s passkey is "not found", a revoked passkey no longer signs in', async () => {
    const frank = await signUp(ctx.app, 'frank');
    bob = await signInAgain(bob);
    const { credential, passkey } = await register(frank, 'Old');
    assert.equal((await del(`/api/auth/passkeys/${passkey.id}`, bob.accessToken)).statusCode, 404);
    // A non-canonical id names no row (src/http/input-guard.ts, ADR 0009).
    assert.equal((await del(`/api/auth/passkeys/${passkey.id.toUpperCase()}`, frank.accessToken)).statusCode, 404);
    assert.equal((await del('/api/auth/passkeys/not-a-uuid', frank.accessToken)).statusCode, 404);
    assert.equal((await del(`/api/auth/passkeys/${passkey.id}`, frank.accessToken)).statusCode, 204);
    assert.equal((await del(`/api/auth/passkeys/${passkey.id}`, frank.accessToken)).statusCode, 404);
    assert.deepEqual((await get('/api/auth/passkeys', frank.accessToken)).json(), { items: [] });
    const res = await post('/api/auth/passkeys/authentication/verify', { response: authenticator.assert(credential, await signInOptions()) });
    assert.equal(errorBody(res).code, 'invalid_credentials');
    await waitFor(async () => (await ctx.database.db.query(`SELECT 1 FROM audit_log WHERE action = 'passkey.removed' AND actor_id = $1`, [frank.id])).rows.length > 0);
  });

  test('without a password the last passkey cannot be removed; with two, one can', async () => {
    const gina = await signUp(ctx.app, 'gina');
    const first = await register(gina, 'One');
    const second = await register(gina, 'Two');
    // An account without a usable password (e.g. created by another sign-in method).
    await ctx.database.db.query(`UPDATE users SET password_hash = '' WHERE id = $1`, [gina.id]);
    assert.equal((await del(`/api/auth/passkeys/${first.passkey.id}`, gina.accessToken)).statusCode, 204);
    const last = await del(`/api/auth/passkeys/${second.passkey.id}`, gina.accessToken);
    assert.equal(last.statusCode, 422);
    assert.deepEqual(errorBody(last).details, { reason: 'last_sign_in_method' });
    assert.equal((await get('/api/auth/passkeys', gina.accessToken)).json().items.length, 1);
  });

  test('strict input: unknown fields, oversized or malformed values and an unauthenticated registration are refused without a 5xx', async () => {
    bob = await signInAgain(bob);
    const options = (await post('/api/auth/passkeys/registration/options', {}, bob.accessToken)).json();
    const { response } = authenticator.create(options);
    const bad: object[] = [
      { name: 'x', response, extra: 1 },
      { name: 'x', response: { ...response, extra: 1 } },
      { name: 'x', response: { ...response, response: { ...response.response, clientDataJSON: 'a'.repeat(5000) } } },
      { name: 'x', response: { ...response, response: { ...response.response, attestationObject: 'not base64url!' } } },
      { name: 'x', response: { ...response, type: 'password' } },
      { name: '', response },
      { name: '   ', response },
      { name: 'x'.repeat(101), response },
    ];
    for (const payload of bad) {
      const res = await post('/api/auth/passkeys/registration/verify', payload, bob.accessToken);
      assert.equal(res.statusCode, 400, JSON.stringify(payload).slice(0, 120));
    }
    assert.equal((await post('/api/auth/passkeys/authentication/options', { email: alice.email })).statusCode, 400);
    assert.equal((await post('/api/auth/passkeys/registration/options', {})).statusCode, 401);
    assert.equal((await get('/api/auth/passkeys', 'nope')).statusCode, 401);
    // Well-formed but meaningless bytes: a refusal, never a 500.
    const garbage = { ...response, response: { ...response.response, attestationObject: 'AAAA' } };
    assert.equal((await post('/api/auth/passkeys/registration/verify', { name: 'x', response: garbage }, bob.accessToken)).statusCode, 422);
    const junk = { id: 'AAAA', rawId: 'AAAA', type: 'public-key', response: { clientDataJSON: 'AAAA', authenticatorData: 'AAAA', signature: 'AAAA' }, clientExtensionResults: {} };
    assert.equal((await post('/api/auth/passkeys/authentication/verify', { response: junk })).statusCode, 401);
    // Nothing secret in the audit trail of this file: only ids and counters.
    const rows = await ctx.database.db.query<{ details: unknown }>(`SELECT details FROM audit_log WHERE action LIKE 'passkey.%'`);
    for (const r of rows.rows) assert.doesNotMatch(JSON.stringify(r.details ?? {}), /challenge|signature|publicKey/i);
  });
});
