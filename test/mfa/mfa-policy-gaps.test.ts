import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Secret, TOTP } from 'otpauth';
import { bearer, createTenant, createTestApp, errorBody, signUp, TEST_PASSWORD, type SignedInUser, type TestContext } from '../helpers/app.js';

/**
 * Issue 12 item 6 (and the Low item on backup codes): the tenant MFA policy binds every
 * credential of a covered role, sessions record how they were authenticated (`amr`, RFC 8176),
 * enabling MFA ends the user's other sessions, and backup codes need re-authentication.
 */
let t = Date.UTC(2031, 0, 1);
const clock = { now: () => t };
const nextStep = () => (t += 30_000);

let ctx: TestContext;
before(async () => {
  ctx = await createTestApp({ deps: { clock } });
});
after(async () => ctx.close());

const post = (url: string, payload: object, token?: string) => ctx.app.inject({ method: 'POST', url, payload, headers: token ? bearer(token) : {} });
const login = async (u: SignedInUser) => (await post('/api/auth/login', { email: u.email, password: TEST_PASSWORD })).json<{ accessToken: string; refreshToken: string }>();

async function enrol(token: string): Promise<{ secret: string; backupCodes: string[] }> {
  nextStep();
  const { secret } = (await post('/api/auth/mfa/totp/setup', {}, token)).json<{ secret: string }>();
  const code = new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: clock.now() });
  const res = await post('/api/auth/mfa/totp/enable', { code }, token);
  assert.equal(res.statusCode, 200, res.body);
  return { secret, backupCodes: res.json<{ backupCodes: string[] }>().backupCodes };
}

async function tenantWithPolicy(owner: SignedInUser) {
  const tenant = await createTenant(ctx.app, owner);
  const setPolicy = () =>
    ctx.app.inject({ method: 'PUT', url: `/api/tenants/${tenant.id}/security-policy`, headers: bearer(owner.accessToken), payload: { requireMfaFor: ['owner', 'manager'] } });
  return { tenant, setPolicy };
}

test('attack: an API key of a role the policy covers skips MFA → 403 until its creator enables MFA', async () => {
  const owner = await signUp(ctx.app, 'key-owner');
  const { tenant, setPolicy } = await tenantWithPolicy(owner);
  const created = await ctx.app.inject({
    method: 'POST', url: `/api/tenants/${tenant.id}/api-keys`, headers: bearer(owner.accessToken), payload: { name: 'ci', permissions: ['api_keys.read'] },
  });
  assert.equal(created.statusCode, 201, created.body);
  const key = created.json<{ key: string }>().key;
  assert.equal((await setPolicy()).statusCode, 200);
  const adminCall = () => ctx.app.inject({ url: `/api/tenants/${tenant.id}/api-keys`, headers: { 'x-api-key': key } });
  const blocked = await adminCall();
  assert.equal(blocked.statusCode, 403, blocked.body);
  assert.equal(errorBody(blocked).code, 'mfa_required');
  await enrol(owner.accessToken);
  assert.equal((await adminCall()).statusCode, 200);
});

test('attack: a password-only session opened before enrolment keeps working after it → revoked by the enrolment', async () => {
  const manager = await signUp(ctx.app, 'old-session');
  const { tenant, setPolicy } = await tenantWithPolicy(manager);
  assert.equal((await setPolicy()).statusCode, 200);
  const old = await login(manager); // opened with the password alone, before enrolment
  await enrol(manager.accessToken);
  const adminCall = (token: string) => ctx.app.inject({ url: `/api/tenants/${tenant.id}/api-keys`, headers: bearer(token) });
  assert.equal((await adminCall(manager.accessToken)).statusCode, 200, 'the session that proved the code is in');
  assert.equal((await adminCall(old.accessToken)).statusCode, 401, 'enabling MFA ended the other session');
  assert.equal((await post('/api/auth/refresh', { refreshToken: old.refreshToken })).statusCode, 401, 'and its refresh token');
});

test('attack: a password-only session that survived enrolment (race, or older than amr) → 403 mfa_required on admin routes', async () => {
  const manager = await signUp(ctx.app, 'survivor');
  const { tenant, setPolicy } = await tenantWithPolicy(manager);
  assert.equal((await setPolicy()).statusCode, 200);
  const old = await login(manager);
  await enrol(manager.accessToken);
  // Undo the revocation, as if the session had been created after it.
  await ctx.database.db.query(`UPDATE sessions SET revoked_at = NULL, revoked_reason = NULL WHERE user_id = $1`, [manager.id]);
  const res = await ctx.app.inject({ url: `/api/tenants/${tenant.id}/api-keys`, headers: bearer(old.accessToken) });
  assert.equal(res.statusCode, 403, res.body);
  assert.equal(errorBody(res).code, 'mfa_required');
  assert.deepEqual((errorBody(res).details as { reason: string }).reason, 'session_without_mfa');
  // Non-admin routes still work for it; a login with the second factor passes the policy.
  assert.equal((await ctx.app.inject({ url: `/api/tenants/${tenant.id}/members`, headers: bearer(old.accessToken) })).statusCode, 200);
});

test('a session opened through the MFA challenge carries otp and passes the policy', async () => {
  const owner = await signUp(ctx.app, 'challenge');
  const { tenant, setPolicy } = await tenantWithPolicy(owner);
  assert.equal((await setPolicy()).statusCode, 200);
  const { secret } = await enrol(owner.accessToken);
  const first = await post('/api/auth/login', { email: owner.email, password: TEST_PASSWORD });
  assert.equal(first.statusCode, 401);
  const { challengeToken } = errorBody(first).details as { challengeToken: string };
  nextStep();
  const code = new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: clock.now() });
  const verified = await post('/api/auth/mfa/verify', { challengeToken, code });
  assert.equal(verified.statusCode, 200, verified.body);
  const res = await ctx.app.inject({ url: `/api/tenants/${tenant.id}/api-keys`, headers: bearer(verified.json<{ accessToken: string }>().accessToken) });
  assert.equal(res.statusCode, 200);
});

test('attack: regenerate backup codes with a stolen access token alone → refused; the password or a current code is needed', async () => {
  const user = await signUp(ctx.app, 'backup');
  const { secret } = await enrol(user.accessToken);
  assert.equal((await post('/api/auth/mfa/backup-codes', {}, user.accessToken)).statusCode, 400);
  assert.equal((await post('/api/auth/mfa/backup-codes', { password: 'not the password!' }, user.accessToken)).statusCode, 401);
  assert.equal((await post('/api/auth/mfa/backup-codes', { password: TEST_PASSWORD }, user.accessToken)).statusCode, 200);
  nextStep();
  const code = new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: clock.now() });
  const byCode = await post('/api/auth/mfa/backup-codes', { code }, user.accessToken);
  assert.equal(byCode.statusCode, 200);
  assert.equal(byCode.json<{ backupCodes: string[] }>().backupCodes.length, 10);
});
