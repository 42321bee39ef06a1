import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bearer, createTestApp, errorBody, signUp, TEST_PASSWORD, uniqueEmail, type TestContext } from '../helpers/app.js';
import { createMailbox, waitFor } from '../helpers/doubles.js';

interface StrengthIssue { field: string; rule: string; score: number; minScore: number; message: string; suggestions: string[] }

/** Issue 18: common and context-specific passwords are refused (ASVS 4.0.3 2.1.7, offline part). */
describe('password policy (zxcvbn, PASSWORD_MIN_SCORE default 3)', () => {
  const mailbox = createMailbox();
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestApp({ deps: { mail: mailbox } });
  });
  after(() => ctx.close());

  const post = (url: string, payload: object, headers: Record<string, string> = {}) => ctx.app.inject({ method: 'POST', url, payload, headers });
  const strengthIssue = (body: ReturnType<typeof errorBody>) => (body.details as StrengthIssue[]).find((d) => d.rule === 'password_strength');

  test('sign-up refuses common passwords with the rule and the score in details', async () => {
    for (const password of ['passwordpassword', 'qwertyuiop123', 'iloveyou1234']) {
      const res = await post('/api/auth/signup', { email: uniqueEmail('weak'), password, name: 'Weak' });
      assert.equal(res.statusCode, 400, password);
      const body = errorBody(res);
      assert.equal(body.code, 'validation_error');
      const issue = strengthIssue(body);
      assert.ok(issue, `no strength issue for ${password}`);
      assert.equal(issue.field, 'password');
      assert.equal(issue.minScore, 3);
      assert.ok(issue.score < 3);
      assert.ok(!res.body.includes(password), 'the password is not echoed');
    }
  });

  test('the user\'s own email and name count against the password', async () => {
    // Strong for anyone else (score 4), made only of this user's name for them.
    const password = 'quillonbrackwater';
    const stranger = await post('/api/auth/signup', { email: uniqueEmail('stranger'), password, name: 'Bob' });
    assert.equal(stranger.statusCode, 201);
    const own = await post('/api/auth/signup', { email: `quillon.brackwater-${Date.now()}@example.test`, password, name: 'Quillon Brackwater' });
    assert.equal(own.statusCode, 400);
    assert.ok(strengthIssue(errorBody(own)));
  });

  test('password change and reset apply the same rule, naming newPassword', async () => {
    const user = await signUp(ctx.app, 'change');
    const change = await post('/api/auth/password', { currentPassword: TEST_PASSWORD, newPassword: 'passwordpassword' }, bearer(user.accessToken));
    assert.equal(change.statusCode, 400);
    assert.equal(strengthIssue(errorBody(change))?.field, 'newPassword');

    await post('/api/auth/password/forgot', { email: user.email });
    const mail = await waitFor(async () => mailbox.messages.find((m) => m.to === user.email && m.text.includes('#token=pr_')));
    const token = /#token=(\S+)/.exec(mail.text)![1]!;
    const weak = await post('/api/auth/password/reset', { token, newPassword: 'passwordpassword' });
    assert.equal(weak.statusCode, 400);
    assert.equal(strengthIssue(errorBody(weak))?.field, 'newPassword');
    // The link is not spent by a refused choice.
    assert.equal((await post('/api/auth/password/reset', { token, newPassword: 'a much better passphrase 7' })).statusCode, 204);
  });

  test('the test suite\'s password passes the policy', async () => {
    const res = await post('/api/auth/signup', { email: uniqueEmail('ok'), password: TEST_PASSWORD, name: 'Ok' });
    assert.equal(res.statusCode, 201);
  });
});

describe('PASSWORD_MIN_SCORE=0 turns the rule off', () => {
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestApp({ env: { PASSWORD_MIN_SCORE: '0' } });
  });
  after(() => ctx.close());

  test('a common password is accepted', async () => {
    const res = await ctx.app.inject({ method: 'POST', url: '/api/auth/signup', payload: { email: uniqueEmail('off'), password: 'passwordpassword', name: 'Off' } });
    assert.equal(res.statusCode, 201);
  });
});
