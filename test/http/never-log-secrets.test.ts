import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { bearer, createTenant, createTestApp, signUp, TEST_PASSWORD, uniqueEmail, type TestContext } from '../helpers/app.js';
import { createMailbox, createManualClock, waitFor } from '../helpers/doubles.js';
import { createSoftAuthenticator } from '../passkeys/soft-authenticator.js';
import { REFRESH_COOKIE } from '../../src/auth/cookie-session.js';

const RP_ID = 'example.test';
const ORIGIN = 'https://app.example.test';

// ASVS 7.1.1: no credential, token, key or code in any log line or audit row.
describe('secrets never reach the logs or the audit trail', () => {
  const lines: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  const clock = createManualClock();
  const mailbox = createMailbox();
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestApp({ env: { LOG_LEVEL: 'trace', WEBAUTHN_ORIGINS: ORIGIN, WEBAUTHN_RP_ID: RP_ID, CORS_ORIGINS: ORIGIN }, deps: { logStream, clock, mail: mailbox } });
  });
  after(() => ctx.close());

  test('a run through every credential flow leaves no secret behind', async () => {
    const secrets: string[] = [TEST_PASSWORD];
    const post = (url: string, payload: object, headers: Record<string, string> = {}) => ctx.app.inject({ method: 'POST', url, payload, headers });

    const user = await signUp(ctx.app, 'secrets');
    secrets.push(user.accessToken, user.refreshToken);
    const mailWith = (prefix: string) =>
      waitFor(async () => [...mailbox.messages].reverse().find((m) => m.to === user.email && m.text.includes(`#token=${prefix}`)));
    const verifyToken = /#token=(\S+)/.exec((await mailWith('ev_')).text)![1]!;
    secrets.push(verifyToken);
    assert.equal((await post('/api/auth/verify-email', { token: `${verifyToken.slice(0, -2)}xx` })).statusCode, 401);
    assert.equal((await post('/api/auth/verify-email', { token: verifyToken })).statusCode, 204);
    await post('/api/auth/verify-email/resend', { email: user.email });
    const refreshed = (await post('/api/auth/refresh', { refreshToken: user.refreshToken })).json();
    secrets.push(refreshed.accessToken, refreshed.refreshToken);
    await post('/api/auth/refresh', { refreshToken: user.refreshToken }); // reuse → audited
    await post('/api/auth/login', { email: user.email, password: 'a wrong password here' });
    secrets.push('a wrong password here');

    const login = (await post('/api/auth/login', { email: user.email, password: TEST_PASSWORD })).json();
    secrets.push(login.accessToken, login.refreshToken);
    const tenant = await createTenant(ctx.app, { ...user, accessToken: login.accessToken });
    const key = (await post(`/api/tenants/${tenant.id}/api-keys`, { name: 'k', permissions: ['tenant.read'] }, bearer(login.accessToken))).json().key as string;
    secrets.push(key);
    await ctx.app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}`, headers: { 'x-api-key': key } });
    await ctx.app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}/members`, headers: bearer(key) });
    // Rotation (ADR 0017): the new secret and the one in its grace, used and refused (403 details).
    const keyId = key.slice('boka_sk_'.length, key.indexOf('.'));
    const rotatedKey = (await post(`/api/tenants/${tenant.id}/api-keys/${keyId}/rotate`, { graceSeconds: 60 }, bearer(login.accessToken))).json().key as string;
    assert.ok(rotatedKey?.startsWith(`boka_sk_${keyId}.`), 'rotated');
    secrets.push(rotatedKey);
    await ctx.app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}`, headers: { 'x-api-key': rotatedKey } });
    await ctx.app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}/members`, headers: { 'x-api-key': key } });

    const setup = (await post('/api/auth/mfa/totp/setup', {}, bearer(login.accessToken))).json();
    secrets.push(setup.secret);
    const code = new TOTP({ secret: Secret.fromBase32(setup.secret) }).generate({ timestamp: clock.now() });
    const backupCodes = (await post('/api/auth/mfa/totp/enable', { code }, bearer(login.accessToken))).json().backupCodes as string[];
    secrets.push(...backupCodes);
    clock.advance(30_000);
    const challenge = (await post('/api/auth/login', { email: user.email, password: TEST_PASSWORD })).json().details.challengeToken as string;
    secrets.push(challenge);
    const mfaCode = new TOTP({ secret: Secret.fromBase32(setup.secret) }).generate({ timestamp: clock.now() });
    const mfaLogin = (await post('/api/auth/mfa/verify', { challengeToken: challenge, code: mfaCode })).json();
    secrets.push(mfaLogin.accessToken, mfaLogin.refreshToken);

    const newPassword = 'the replacement passphrase';
    secrets.push(newPassword);
    await post('/api/auth/password/forgot', { email: user.email });
    const resetToken = /#token=(\S+)/.exec((await mailWith('pr_')).text)![1]!;
    secrets.push(resetToken);
    assert.equal((await post('/api/auth/password/reset', { token: resetToken, newPassword })).statusCode, 204);

    // Email change and account deletion (ADR 0021): the change link, the re-authentication password.
    const mover = await signUp(ctx.app, 'secrets-mover');
    secrets.push(mover.accessToken, mover.refreshToken);
    const newEmail = uniqueEmail('secrets-moved');
    assert.equal((await post('/api/auth/me/email', { newEmail, password: TEST_PASSWORD }, bearer(mover.accessToken))).statusCode, 202);
    const changeMail = await waitFor(async () => mailbox.messages.find((m) => m.to === newEmail && m.text.includes('#token=ec_')));
    const changeToken = /#token=(\S+)/.exec(changeMail.text)![1]!;
    secrets.push(changeToken);
    assert.equal((await post('/api/auth/me/email/confirm', { token: `${changeToken.slice(0, -2)}xx` })).statusCode, 401);
    assert.equal((await post('/api/auth/me/email/confirm', { token: changeToken })).statusCode, 204);
    const deleted = await ctx.app.inject({ method: 'DELETE', url: '/api/auth/me', headers: bearer(mover.accessToken), payload: { password: TEST_PASSWORD } });
    assert.equal(deleted.statusCode, 204);

    // Passkeys (ADR 0016) and cookie mode (ADR 0014): challenges, signatures, client data, the
    // session cookie's value, and a passkey re-authentication before deletion (ADR 0021).
    const authenticator = createSoftAuthenticator({ rpId: RP_ID, origin: ORIGIN });
    const holder = await signUp(ctx.app, 'secrets-passkey');
    secrets.push(holder.accessToken, holder.refreshToken);
    const creation = (await post('/api/auth/passkeys/registration/options', {}, bearer(holder.accessToken))).json();
    const created = authenticator.create(creation);
    secrets.push(creation.challenge, created.response.response.clientDataJSON);
    assert.equal((await post('/api/auth/passkeys/registration/verify', { name: 'Key', response: created.response }, bearer(holder.accessToken))).statusCode, 201);
    const signInOptions = (await post('/api/auth/passkeys/authentication/options', {})).json();
    const assertion = authenticator.assert(created.credential, signInOptions);
    secrets.push(signInOptions.challenge, assertion.response.signature, assertion.response.clientDataJSON);
    const cookieSignIn = await post('/api/auth/passkeys/authentication/verify', { response: assertion }, { 'x-boka-session': 'cookie', origin: ORIGIN });
    assert.equal(cookieSignIn.statusCode, 200, cookieSignIn.body);
    const cookieValue = cookieSignIn.cookies.find((c) => c.name === REFRESH_COOKIE)!.value;
    secrets.push(cookieSignIn.json().accessToken, cookieValue);
    const cookieRefresh = await ctx.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: {}, headers: { origin: ORIGIN }, cookies: { [REFRESH_COOKIE]: cookieValue } });
    assert.equal(cookieRefresh.statusCode, 200);
    secrets.push(cookieRefresh.json().accessToken, cookieRefresh.cookies.find((c) => c.name === REFRESH_COOKIE)!.value);
    const reauthOptions = (await post('/api/auth/passkeys/reauthentication/options', {}, bearer(holder.accessToken))).json();
    const proof = authenticator.assert(created.credential, reauthOptions);
    secrets.push(reauthOptions.challenge, proof.response.signature);
    const gone = await ctx.app.inject({ method: 'DELETE', url: '/api/auth/me', headers: bearer(holder.accessToken), payload: { passkey: proof } });
    assert.equal(gone.statusCode, 204, gone.body);

    await ctx.app.close(); // flushes the audit queue and batched writes
    const audit = await ctx.database.db.query(`SELECT * FROM audit_log`);
    const auditText = JSON.stringify(audit.rows);
    const logText = lines.join('');
    assert.ok(lines.length > 10, 'logs were captured');
    assert.ok(audit.rows.length > 5, 'audit rows were written');
    // Every secret and its distinctive part (the bit after the id of `<prefix><id>.<secret>`).
    const needles = secrets.flatMap((s) => [s, s.includes('.') && !s.startsWith('ey') ? s.slice(s.indexOf('.') + 1) : s]);
    for (const s of needles) {
      assert.ok(!logText.includes(s), `a secret (${s.slice(0, 6)}…) appears in the logs`);
      assert.ok(!auditText.includes(s), `a secret (${s.slice(0, 6)}…) appears in the audit log`);
    }
  });
});
