import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { checkTotp, createTotp } from '../../src/mfa/totp.core.js';
import { addMember, bearer, createTenant, errorBody, signUp, TEST_PASSWORD, type SignedInUser, createTestApp, type TestContext } from '../helpers/app.js';
import { createManualClock, waitFor } from '../helpers/doubles.js';

// RFC 6238 Appendix B: seeds are the ASCII strings below; 8-digit codes.
const SEEDS = {
  SHA1: '12345678901234567890',
  SHA256: '12345678901234567890123456789012',
  SHA512: '1234567890123456789012345678901234567890123456789012345678901234',
} as const;
const VECTORS: Array<[number, string, keyof typeof SEEDS]> = [
  [59, '94287082', 'SHA1'], [59, '46119246', 'SHA256'], [59, '90693936', 'SHA512'],
  [1111111109, '07081804', 'SHA1'], [1111111109, '68084774', 'SHA256'], [1111111109, '25091201', 'SHA512'],
  [1111111111, '14050471', 'SHA1'], [1111111111, '67062674', 'SHA256'], [1111111111, '99943326', 'SHA512'],
  [1234567890, '89005924', 'SHA1'], [1234567890, '91819424', 'SHA256'], [1234567890, '93441116', 'SHA512'],
  [2000000000, '69279037', 'SHA1'], [2000000000, '90698825', 'SHA256'], [2000000000, '38618901', 'SHA512'],
  [20000000000, '65353130', 'SHA1'], [20000000000, '77737706', 'SHA256'], [20000000000, '47863826', 'SHA512'],
];

describe('TOTP core (RFC 6238)', () => {
  test('Appendix B test vectors verify, and each code is accepted once (ASVS 2.8.4)', () => {
    for (const [t, code, algorithm] of VECTORS) {
      const totp = createTotp(Secret.fromUTF8(SEEDS[algorithm]).base32, { algorithm, digits: 8 });
      assert.equal(totp.generate({ timestamp: t * 1000 }), code, `${algorithm} T=${t}`);
      const first = checkTotp(totp, code, t * 1000, 0);
      assert.equal(first.ok, true, `${algorithm} T=${t}`);
      assert.ok(first.ok);
      assert.deepEqual(checkTotp(totp, code, t * 1000, first.step), { ok: false, reason: 'replay' });
    }
    const totp = createTotp(Secret.fromUTF8(SEEDS.SHA1).base32, { digits: 8 });
    assert.deepEqual(checkTotp(totp, '00000000', 59_000, 0), { ok: false, reason: 'invalid' });
    assert.deepEqual(checkTotp(totp, '94287082', 59_000 + 120_000, 0), { ok: false, reason: 'invalid' }); // outside ±1 step
  });
});

describe('MFA over HTTP', () => {
  const clock = createManualClock(Date.UTC(2030, 0, 1));
  let ctx: TestContext;
  let user: SignedInUser;
  let secret: string;
  let backupCodes: string[];
  const code = () => new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: clock.now() });
  const nextStep = () => clock.advance(30_000);
  const post = (url: string, payload: object, token?: string) =>
    ctx.app.inject({ method: 'POST', url, payload, headers: token ? bearer(token) : {} });

  before(async () => {
    ctx = await createTestApp({ deps: { clock } });
    user = await signUp(ctx.app, 'mfa');
  });
  after(() => ctx.close());

  test('setup returns a base32 secret, an otpauth:// URI and an SVG QR code; enable needs a valid code', async () => {
    const res = await post('/api/auth/mfa/totp/setup', {}, user.accessToken);
    assert.equal(res.statusCode, 200);
    const body = res.json();
    secret = body.secret;
    assert.match(secret, /^[A-Z2-7]{32}$/);
    assert.match(body.uri, /^otpauth:\/\/totp\/.*secret=[A-Z2-7]+/);
    assert.match(body.qrSvg, /^<svg/);
    const bad = await post('/api/auth/mfa/totp/enable', { code: '000000' }, user.accessToken);
    assert.equal(bad.statusCode, 401);
    const ok = await post('/api/auth/mfa/totp/enable', { code: code() }, user.accessToken);
    assert.equal(ok.statusCode, 200);
    backupCodes = ok.json().backupCodes;
    assert.equal(backupCodes.length, 10);
    assert.equal(new Set(backupCodes).size, 10);
    // ASVS 2.6.2: 23 base32 characters = 115 bits ≥ 112.
    for (const c of backupCodes) assert.equal(c.replace(/-/g, '').length, 23);
  });

  test('login then needs the second factor: 401 mfa_required with a challenge; verify completes it', async () => {
    nextStep();
    const login = await post('/api/auth/login', { email: user.email, password: TEST_PASSWORD });
    assert.equal(login.statusCode, 401);
    const err = errorBody(login);
    assert.equal(err.code, 'mfa_required');
    const { challengeToken } = err.details as { challengeToken: string };
    assert.ok(challengeToken);
    const wrong = await post('/api/auth/mfa/verify', { challengeToken, code: '123456' });
    assert.equal(wrong.statusCode, 401);
    const totp = code();
    const ok = await post('/api/auth/mfa/verify', { challengeToken, code: totp });
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.json().user.id, user.id);
    assert.ok(ok.json().accessToken);
    // The challenge is single use.
    assert.equal((await post('/api/auth/mfa/verify', { challengeToken, code: totp })).statusCode, 401);

    // ASVS 2.8.4 / 2.8.5: the same TOTP code on a fresh challenge is refused and logged.
    const again = errorBody(await post('/api/auth/login', { email: user.email, password: TEST_PASSWORD }));
    const replay = await post('/api/auth/mfa/verify', { challengeToken: (again.details as { challengeToken: string }).challengeToken, code: totp });
    assert.equal(replay.statusCode, 401);
    await waitFor(async () => {
      const rows = await ctx.database.db.query<{ action: string }>(`SELECT action FROM audit_log WHERE action = 'mfa.replay' AND actor_id = $1`, [user.id]);
      return rows.rows.length > 0;
    });
  });

  test('a backup code works exactly once', async () => {
    const challenge = () => post('/api/auth/login', { email: user.email, password: TEST_PASSWORD }).then((r) => (errorBody(r).details as { challengeToken: string }).challengeToken);
    const backup = backupCodes[0]!;
    assert.equal((await post('/api/auth/mfa/verify', { challengeToken: await challenge(), code: backup.toLowerCase() })).statusCode, 200);
    assert.equal((await post('/api/auth/mfa/verify', { challengeToken: await challenge(), code: backup })).statusCode, 401);
  });

  test('regenerating backup codes invalidates the old set', async () => {
    const res = await post('/api/auth/mfa/backup-codes', { password: TEST_PASSWORD }, user.accessToken);
    assert.equal(res.statusCode, 200);
    const fresh = res.json().backupCodes as string[];
    const challenge = async () => (errorBody(await post('/api/auth/login', { email: user.email, password: TEST_PASSWORD })).details as { challengeToken: string }).challengeToken;
    assert.equal((await post('/api/auth/mfa/verify', { challengeToken: await challenge(), code: backupCodes[1]! })).statusCode, 401);
    assert.equal((await post('/api/auth/mfa/verify', { challengeToken: await challenge(), code: fresh[0]! })).statusCode, 200);
  });

  test('tenant policy requireMfaFor: owners/managers without MFA get 403 mfa_required on admin routes until they enrol (ASVS 4.3.1)', async () => {
    const owner = await signUp(ctx.app, 'policy-owner');
    const manager = await signUp(ctx.app, 'policy-manager');
    const staff = await signUp(ctx.app, 'policy-staff');
    const tenant = await createTenant(ctx.app, owner);
    await addMember(ctx.app, owner, tenant.id, manager, 'manager');
    await addMember(ctx.app, owner, tenant.id, staff, 'staff');
    const put = await ctx.app.inject({ method: 'PUT', url: `/api/tenants/${tenant.id}/security-policy`, headers: bearer(owner.accessToken), payload: { requireMfaFor: ['owner', 'manager'] } });
    assert.equal(put.statusCode, 200);
    const adminCall = (who: SignedInUser) => ctx.app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}/api-keys`, headers: bearer(who.accessToken) });
    const blocked = await adminCall(manager);
    assert.equal(blocked.statusCode, 403);
    assert.equal(errorBody(blocked).code, 'mfa_required');
    // Non-admin routes and roles outside the policy are unaffected.
    assert.equal((await ctx.app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}/members`, headers: bearer(manager.accessToken) })).statusCode, 200);
    assert.equal((await ctx.app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}/members`, headers: bearer(staff.accessToken) })).statusCode, 200);
    // Enrol, then the same call passes.
    nextStep();
    const setup = (await post('/api/auth/mfa/totp/setup', {}, manager.accessToken)).json();
    const managerCode = new TOTP({ secret: Secret.fromBase32(setup.secret) }).generate({ timestamp: clock.now() });
    assert.equal((await post('/api/auth/mfa/totp/enable', { code: managerCode }, manager.accessToken)).statusCode, 200);
    assert.equal((await adminCall(manager)).statusCode, 200);
  });

  test('disable needs a valid code or the password', async () => {
    assert.equal((await post('/api/auth/mfa/totp/disable', { password: 'wrong password!!' }, user.accessToken)).statusCode, 401);
    const res = await post('/api/auth/mfa/totp/disable', { password: TEST_PASSWORD }, user.accessToken);
    assert.equal(res.statusCode, 204);
    const login = await post('/api/auth/login', { email: user.email, password: TEST_PASSWORD });
    assert.equal(login.statusCode, 200);
  });
});
