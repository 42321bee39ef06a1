import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bearer, createTestApp, errorBody, signUp, TEST_PASSWORD, uniqueEmail, type TestContext } from '../helpers/app.js';
import { createMailbox, createManualClock, waitFor } from '../helpers/doubles.js';

const NEW_PASSWORD = 'a brand new passphrase 42';

describe('password change, forgot and reset', () => {
  const clock = createManualClock();
  const mailbox = createMailbox();
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestApp({ deps: { clock, mail: mailbox } });
  });
  after(() => ctx.close());

  const me = (token: string) => ctx.app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(token) });
  const tokenFrom = (text: string) => /#token=(\S+)/.exec(text)?.[1] ?? '';
  // Sign-up also mails a verification link (`ev_`): pick the reset mail itself.
  const resetMail = (to: string) => waitFor(async () => [...mailbox.messages].reverse().find((m) => m.to === to && m.text.includes('#token=pr_')));

  test('change: needs the current password, ends every other session (ASVS 3.3.3), notifies by mail (ASVS 2.2.3)', async () => {
    const user = await signUp(ctx.app, 'change');
    const other = (await ctx.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: TEST_PASSWORD } })).json();
    const wrong = await ctx.app.inject({ method: 'POST', url: '/api/auth/password', headers: bearer(user.accessToken), payload: { currentPassword: 'not it at all', newPassword: NEW_PASSWORD } });
    assert.equal(wrong.statusCode, 401);
    const res = await ctx.app.inject({ method: 'POST', url: '/api/auth/password', headers: bearer(user.accessToken), payload: { currentPassword: TEST_PASSWORD, newPassword: NEW_PASSWORD } });
    assert.equal(res.statusCode, 204);
    assert.equal((await me(user.accessToken)).statusCode, 200, 'the current session stays');
    assert.equal((await me(other.accessToken)).statusCode, 401, 'other sessions end');
    const mail = await waitFor(async () => mailbox.last(user.email));
    assert.match(mail.subject, /password was changed/);
    assert.equal((await ctx.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: NEW_PASSWORD } })).statusCode, 200);
  });

  test('forgot answers the same whether or not the account exists', async () => {
    const user = await signUp(ctx.app, 'forgot');
    const known = await ctx.app.inject({ method: 'POST', url: '/api/auth/password/forgot', payload: { email: user.email } });
    const unknown = await ctx.app.inject({ method: 'POST', url: '/api/auth/password/forgot', payload: { email: uniqueEmail('nobody') } });
    assert.equal(known.statusCode, 202);
    assert.equal(unknown.statusCode, 202);
    assert.equal(known.body, unknown.body);
  });

  test('reset: one-time token, stored hashed, revokes every session', async () => {
    const user = await signUp(ctx.app, 'reset');
    await ctx.app.inject({ method: 'POST', url: '/api/auth/password/forgot', payload: { email: user.email } });
    const token = tokenFrom((await resetMail(user.email)).text);
    assert.match(token, /^pr_/);
    const stored = await ctx.database.db.query(`SELECT * FROM password_resets`);
    assert.ok(!JSON.stringify(stored.rows).includes(token.split('.')[1]!));
    const res = await ctx.app.inject({ method: 'POST', url: '/api/auth/password/reset', payload: { token, newPassword: NEW_PASSWORD } });
    assert.equal(res.statusCode, 204);
    assert.equal((await me(user.accessToken)).statusCode, 401);
    const again = await ctx.app.inject({ method: 'POST', url: '/api/auth/password/reset', payload: { token, newPassword: 'yet another passphrase' } });
    assert.equal(again.statusCode, 401);
    assert.equal(errorBody(again).code, 'invalid_token');
    assert.equal((await ctx.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: NEW_PASSWORD } })).statusCode, 200);
  });

  test('a reset token expires after 15 minutes', async () => {
    const user = await signUp(ctx.app, 'expiry');
    mailbox.messages.length = 0;
    await ctx.app.inject({ method: 'POST', url: '/api/auth/password/forgot', payload: { email: user.email } });
    const token = tokenFrom((await resetMail(user.email)).text);
    clock.advance(15 * 60_000 + 1);
    const res = await ctx.app.inject({ method: 'POST', url: '/api/auth/password/reset', payload: { token, newPassword: NEW_PASSWORD } });
    assert.equal(res.statusCode, 401);
  });
});
