import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createAuditService } from '../../src/audit/audit.service.js';
import { systemClock } from '../../src/shared/clock.js';
import { createEventHub } from '../../src/shared/events.js';
import type { MailMessage } from '../../src/mail/index.js';
import { addMember, bearer, createTenant, createTestApp, errorBody, signUp, TEST_PASSWORD, uniqueEmail, type TestContext } from '../helpers/app.js';
import { createMailbox, createManualClock, waitFor } from '../helpers/doubles.js';

const CHANGE_URL = 'https://app.example.test/confirm-email';
const tokenIn = (m: MailMessage) => /#token=(ec_\S+)/.exec(m.text)?.[1] ?? '';

/**
 * Issue 18 / ADR 0021: account self-service. Re-authentication before sensitive account changes
 * (ASVS 4.0.3 3.7.1), single-use expiring links to the new address (2.3.1, 2.5.x), the old
 * address notified (2.2.3), no answer that tells whether an address has an account (ASVS 5.0.0
 * 6.3.8), deletion that keeps the audit chain verifiable (7.3.3). PGlite and PostgreSQL.
 */
describe('account self-service', () => {
  const clock = createManualClock();
  const mailbox = createMailbox();
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestApp({ env: { EMAIL_CHANGE_URL: CHANGE_URL }, deps: { clock, mail: mailbox } });
  });
  after(() => ctx.close());

  const call = (method: 'PATCH' | 'POST' | 'DELETE' | 'GET', url: string, token: string | null, payload?: object) =>
    ctx.app.inject({ method, url, headers: token ? bearer(token) : {}, ...(payload ? { payload } : {}) });
  const me = async (token: string) => (await call('GET', '/api/auth/me', token)).json<{ user: { email: string; name: string; emailVerified: boolean } }>().user;
  const login = (email: string, password = TEST_PASSWORD) => ctx.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password } });
  const changeMails = (to: string) => mailbox.messages.filter((m) => m.to === to && m.text.includes('#token=ec_'));

  test('PATCH /api/auth/me changes the name, strictly validated; the cached profile follows', async () => {
    const user = await signUp(ctx.app, 'rename');
    assert.equal((await me(user.accessToken)).name, 'rename', 'profile cached now');
    const res = await call('PATCH', '/api/auth/me', user.accessToken, { name: '  Ada Lovelace ' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().user.name, 'Ada Lovelace');
    assert.equal((await me(user.accessToken)).name, 'Ada Lovelace');
    for (const body of [{ name: '   ' }, { name: '' }, { name: 'x'.repeat(201) }, { name: 'ok', email: 'x@example.test' }, {}]) {
      const bad = await call('PATCH', '/api/auth/me', user.accessToken, body);
      assert.equal(bad.statusCode, 400, JSON.stringify(body));
      assert.equal(errorBody(bad).code, 'validation_error');
    }
    assert.equal((await call('PATCH', '/api/auth/me', null, { name: 'anon' })).statusCode, 401);
  });

  test('email change: re-authentication, a single-use link to the new address, a notice to the old one, the swap on confirm', async () => {
    const user = await signUp(ctx.app, 'mover');
    const newEmail = uniqueEmail('moved');
    const wrong = await call('POST', '/api/auth/me/email', user.accessToken, { newEmail, password: 'not the password at all' });
    assert.equal(wrong.statusCode, 401);
    assert.equal(errorBody(wrong).code, 'invalid_credentials');

    const res = await call('POST', '/api/auth/me/email', user.accessToken, { newEmail, password: TEST_PASSWORD });
    assert.equal(res.statusCode, 202);
    const link = await waitFor(async () => changeMails(newEmail)[0]);
    assert.ok(link.text.includes(`${CHANGE_URL}#token=ec_`));
    const token = tokenIn(link);
    const notice = await waitFor(async () => mailbox.messages.find((m) => m.to === user.email && m.subject.includes('change')));
    assert.ok(!notice.text.includes(token.split('.')[1]!), 'the old address never sees the secret');
    const stored = await ctx.database.db.query(`SELECT * FROM email_changes WHERE user_id = $1`, [user.id]);
    assert.ok(!JSON.stringify(stored.rows).includes(token.split('.')[1]!), 'only a hash of the secret is stored');
    assert.equal((await me(user.accessToken)).email, user.email, 'nothing changes before the confirmation');

    const forged = await call('POST', '/api/auth/me/email/confirm', null, { token: `${token.slice(0, -4)}AAAA` });
    assert.equal(forged.statusCode, 401);
    assert.equal(errorBody(forged).code, 'invalid_token');
    assert.equal((await call('POST', '/api/auth/me/email/confirm', null, { token })).statusCode, 204);
    const after = await me(user.accessToken);
    assert.equal(after.email, newEmail);
    assert.equal(after.emailVerified, true, 'the link proved the new address');
    const again = await call('POST', '/api/auth/me/email/confirm', null, { token });
    assert.equal(again.statusCode, 401, 'single use');
    assert.equal((await login(newEmail)).statusCode, 200);
    assert.equal((await login(user.email)).statusCode, 401, 'the old address no longer signs in');
    await waitFor(async () => mailbox.messages.find((m) => m.to === user.email.toLowerCase() && m.subject.includes('was changed')));
  });

  test('a taken new address gets the same answer and no link (no enumeration)', async () => {
    const user = await signUp(ctx.app, 'prober');
    const other = await signUp(ctx.app, 'taken');
    const free = uniqueEmail('free');
    const a = await call('POST', '/api/auth/me/email', user.accessToken, { newEmail: other.email, password: TEST_PASSWORD });
    const b = await call('POST', '/api/auth/me/email', user.accessToken, { newEmail: free, password: TEST_PASSWORD });
    assert.deepEqual([a.statusCode, b.statusCode], [202, 202]);
    assert.deepEqual(a.json(), b.json());
    await waitFor(async () => changeMails(free)[0]);
    assert.equal(changeMails(other.email).length, 0, 'the owner of the taken address is not mailed a link');
    const own = await call('POST', '/api/auth/me/email', user.accessToken, { newEmail: user.email.toUpperCase(), password: TEST_PASSWORD });
    assert.equal(own.statusCode, 400, 'the current address is not a change');
  });

  test('an address taken between request and confirmation: 409, nothing half-done, the link stays usable', async () => {
    const user = await signUp(ctx.app, 'racer');
    const target = uniqueEmail('contested');
    await call('POST', '/api/auth/me/email', user.accessToken, { newEmail: target, password: TEST_PASSWORD });
    const token = tokenIn(await waitFor(async () => changeMails(target)[0]));
    const squatter = await ctx.app.inject({ method: 'POST', url: '/api/auth/signup', payload: { email: target, password: TEST_PASSWORD, name: 'squatter' } });
    assert.equal(squatter.statusCode, 201);
    const clash = await call('POST', '/api/auth/me/email/confirm', null, { token });
    assert.equal(clash.statusCode, 409);
    assert.equal(errorBody(clash).code, 'duplicate_resource');
    assert.equal((await me(user.accessToken)).email, user.email);
    const row = await ctx.database.db.query<{ usedAt: Date | null }>(`SELECT used_at AS "usedAt" FROM email_changes WHERE user_id = $1`, [user.id]);
    assert.equal(row.rows[0]?.usedAt, null, 'the rolled-back transaction did not spend the link');
  });

  test('DELETE /api/auth/me: re-authentication, then refused while the last owner of a tenant (422 last_owner naming it)', async () => {
    const owner = await signUp(ctx.app, 'sole-owner');
    const tenant = await createTenant(ctx.app, owner);
    const wrong = await call('DELETE', '/api/auth/me', owner.accessToken, { password: 'definitely wrong password' });
    assert.equal(wrong.statusCode, 401);
    assert.equal(errorBody(wrong).code, 'invalid_credentials');
    const refused = await call('DELETE', '/api/auth/me', owner.accessToken, { password: TEST_PASSWORD });
    assert.equal(refused.statusCode, 422);
    const body = errorBody(refused);
    assert.equal(body.code, 'last_owner');
    assert.deepEqual(body.details, { tenants: [{ id: tenant.id, slug: tenant.slug }] });
    assert.equal((await me(owner.accessToken)).email, owner.email, 'nothing changed');
    assert.equal((await call('GET', `/api/tenants/${tenant.id}/members`, owner.accessToken)).statusCode, 200);
  });

  test('DELETE /api/auth/me anonymises, drops credentials, revokes sessions and memberships in one go; the audit chain still verifies', async () => {
    const owner = await signUp(ctx.app, 'co-owner');
    const leaving = await signUp(ctx.app, 'leaving');
    const tenant = await createTenant(ctx.app, leaving);
    await addMember(ctx.app, leaving, tenant.id, owner, 'owner');
    const second = await login(leaving.email);
    assert.equal(second.statusCode, 200);
    await ctx.app.inject({ method: 'POST', url: '/api/auth/password/forgot', payload: { email: leaving.email } });
    await waitFor(async () => (await ctx.database.db.query(`SELECT 1 FROM password_resets WHERE user_id = $1`, [leaving.id])).rows.length > 0);

    const res = await call('DELETE', '/api/auth/me', leaving.accessToken, { password: TEST_PASSWORD });
    assert.equal(res.statusCode, 204);
    for (const token of [leaving.accessToken, second.json().accessToken as string]) {
      const dead = await call('GET', '/api/auth/me', token);
      assert.equal(dead.statusCode, 401, 'every session ended');
    }
    const refresh = await ctx.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: leaving.refreshToken } });
    assert.equal(refresh.statusCode, 401);
    assert.equal((await login(leaving.email)).statusCode, 401);

    const row = (await ctx.database.db.query<{ email: string; name: string; passwordHash: string; deletedAt: Date | null }>(
      `SELECT email, name, password_hash AS "passwordHash", deleted_at AS "deletedAt" FROM users WHERE id = $1`, [leaving.id])).rows[0]!;
    assert.equal(row.email, `deleted-${leaving.id}@deleted.invalid`);
    assert.equal(row.name, 'Deleted user');
    assert.ok(!row.passwordHash.startsWith('$argon2'), 'the password hash is gone');
    assert.ok(row.deletedAt);
    for (const table of ['memberships', 'password_resets', 'user_mfa', 'email_changes']) {
      const left = await ctx.database.db.transaction((tx) => tx.query(`SELECT 1 FROM ${table} WHERE user_id = $1`, [leaving.id]), { 'app.user_id': leaving.id });
      assert.equal(left.rows.length, 0, table);
    }
    const live = await ctx.database.db.query(`SELECT 1 FROM sessions WHERE user_id = $1 AND revoked_at IS NULL`, [leaving.id]);
    assert.equal(live.rows.length, 0);
    const members = (await call('GET', `/api/tenants/${tenant.id}/members`, owner.accessToken)).json<{ items: Array<{ userId: string }> }>();
    assert.deepEqual(members.items.map((m) => m.userId), [owner.id], 'the remaining owner keeps the tenant');

    // The address is free again, and the audit trail is intact (old rows untouched, chain verifies).
    const again = await ctx.app.inject({ method: 'POST', url: '/api/auth/signup', payload: { email: leaving.email, password: TEST_PASSWORD, name: 'again' } });
    assert.equal(again.statusCode, 201);
    await waitFor(async () => (await ctx.database.db.query(`SELECT 1 FROM audit_log WHERE action = 'account.deleted' AND target = $1`, [`user:${leaving.id}`])).rows.length > 0);
    const report = await createAuditService({ db: ctx.database.db, clock: systemClock, events: createEventHub() }).verify();
    assert.deepEqual(report.broken, []);
    const mentions = await ctx.database.db.query(`SELECT 1 FROM audit_log WHERE (details::text || coalesce(target, '')) ILIKE $1`, [`%${leaving.email}%`]);
    assert.equal(mentions.rows.length, 0, 'no audit row carries the address');
  });

  // Last: moves the shared clock past every session's idle timeout.
  test('an email-change link expires after one hour', async () => {
    const user = await signUp(ctx.app, 'slow');
    const target = uniqueEmail('late');
    await call('POST', '/api/auth/me/email', user.accessToken, { newEmail: target, password: TEST_PASSWORD });
    const token = tokenIn(await waitFor(async () => changeMails(target)[0]));
    clock.advance(3600_000 + 1);
    const late = await call('POST', '/api/auth/me/email/confirm', null, { token });
    assert.equal(late.statusCode, 401);
    assert.equal(errorBody(late).code, 'invalid_token');
    assert.equal((await login(user.email)).statusCode, 200);
  });
});
