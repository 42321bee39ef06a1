import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { MailMessage } from '../../src/mail/index.js';
import { bearer, createTestApp, errorBody, signUp, TEST_PASSWORD, uniqueEmail, type TestContext } from '../helpers/app.js';
import { createMailbox, createManualClock, waitFor } from '../helpers/doubles.js';

const VERIFY_URL = 'https://app.example.test/verify-email';
const tokenIn = (m: MailMessage) => /#token=(\S+)/.exec(m.text)?.[1] ?? '';

/** Issue 18: a one-time, expiring link proves the address; ADR 0013. Runs on PGlite and PostgreSQL. */
describe('email verification', () => {
  const clock = createManualClock();
  const mailbox = createMailbox();
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestApp({ env: { EMAIL_VERIFY_URL: VERIFY_URL, EMAIL_VERIFY_RESEND_PER_ACCOUNT_PER_HOUR: '2' }, deps: { clock, mail: mailbox } });
  });
  after(() => ctx.close());

  const post = (url: string, payload: object) => ctx.app.inject({ method: 'POST', url, payload });
  const verifyMails = (to: string) => mailbox.messages.filter((m) => m.to === to && m.text.includes('#token=ev_'));
  const me = async (token: string) => (await ctx.app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(token) })).json<{ user: { emailVerified: boolean } }>().user;

  test('sign-up mails a single-use link built from EMAIL_VERIFY_URL; following it verifies the address', async () => {
    const user = await signUp(ctx.app, 'verify');
    assert.equal((await me(user.accessToken)).emailVerified, false);
    const mail = await waitFor(async () => verifyMails(user.email)[0]);
    assert.ok(mail.text.includes(`${VERIFY_URL}#token=ev_`), 'the link is the configured page, the token in the fragment');
    const token = tokenIn(mail);
    const stored = await ctx.database.db.query(`SELECT * FROM email_verifications`);
    assert.ok(!JSON.stringify(stored.rows).includes(token.split('.')[1]!), 'only a hash of the secret is stored');

    const wrong = await post('/api/auth/verify-email', { token: `${token.slice(0, -4)}AAAA` });
    assert.equal(wrong.statusCode, 401);
    assert.equal(errorBody(wrong).code, 'invalid_token');
    assert.equal((await post('/api/auth/verify-email', { token })).statusCode, 204);
    assert.equal((await me(user.accessToken)).emailVerified, true, 'the cached profile was invalidated');
    const again = await post('/api/auth/verify-email', { token });
    assert.equal(again.statusCode, 401, 'single use');
    assert.equal(errorBody(again).code, 'invalid_token');
  });

  test('a link expires after 24 hours', async () => {
    const user = await signUp(ctx.app, 'expiry');
    const token = tokenIn(await waitFor(async () => verifyMails(user.email)[0]));
    clock.advance(24 * 3600_000 + 1);
    const late = await post('/api/auth/verify-email', { token });
    assert.equal(late.statusCode, 401);
    assert.equal(errorBody(late).code, 'invalid_token');
    // (The session has expired too, so ask the database.)
    const row = await ctx.database.db.query<{ v: Date | null }>(`SELECT email_verified_at AS v FROM users WHERE id = $1`, [user.id]);
    assert.equal(row.rows[0]?.v, null);
  });

  test('resend answers alike for unknown, unverified and verified addresses; only the unverified one gets mail, and a new link supersedes the old', async () => {
    const pending = await signUp(ctx.app, 'pending');
    const first = tokenIn(await waitFor(async () => verifyMails(pending.email)[0]));
    const verified = await signUp(ctx.app, 'verified');
    await post('/api/auth/verify-email', { token: tokenIn(await waitFor(async () => verifyMails(verified.email)[0])) });
    const answers = [];
    for (const email of [pending.email, verified.email, uniqueEmail('nobody')]) {
      const res = await post('/api/auth/verify-email/resend', { email });
      answers.push([res.statusCode, res.json<{ message: string }>().message]);
    }
    assert.equal(answers[0]![0], 202);
    assert.deepEqual(answers[1], answers[0]);
    assert.deepEqual(answers[2], answers[0]);
    const second = tokenIn(await waitFor(async () => verifyMails(pending.email)[1]));
    assert.notEqual(second, first);
    assert.equal(verifyMails(verified.email).length, 1, 'a verified address gets no new link');
    assert.equal((await post('/api/auth/verify-email', { token: first })).statusCode, 401, 'the older link is superseded');
    assert.equal((await post('/api/auth/verify-email', { token: second })).statusCode, 204);
  });

  test('resend is budgeted per address, silently (EMAIL_VERIFY_RESEND_PER_ACCOUNT_PER_HOUR=2)', async () => {
    const user = await signUp(ctx.app, 'budget');
    await waitFor(async () => verifyMails(user.email)[0]);
    for (let i = 0; i < 4; i += 1) assert.equal((await post('/api/auth/verify-email/resend', { email: user.email.toUpperCase() })).statusCode, 202);
    await waitFor(async () => verifyMails(user.email)[2]);
    // Give any further (wrongly unbudgeted) send the time to land before counting.
    await post('/api/auth/verify-email/resend', { email: uniqueEmail('flush') });
    await new Promise((r) => setImmediate(r));
    assert.equal(verifyMails(user.email).length, 3, 'sign-up + 2 re-sends');
  });
});

describe('email verification: per-IP resend budget', () => {
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestApp({ env: { EMAIL_VERIFY_RESEND_PER_IP_PER_HOUR: '3' }, deps: { mail: createMailbox() } });
  });
  after(() => ctx.close());

  test('the fourth request from one IP is 429 whatever the address', async () => {
    const codes = [];
    for (let i = 0; i < 4; i += 1) {
      codes.push((await ctx.app.inject({ method: 'POST', url: '/api/auth/verify-email/resend', payload: { email: uniqueEmail('ip') } })).statusCode);
    }
    assert.deepEqual(codes, [202, 202, 202, 429]);
  });
});

describe('AUTH_SIGNUP_MODE=verify: enumeration-safe sign-up (ADR 0013)', () => {
  const mailbox = createMailbox();
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestApp({ env: { AUTH_SIGNUP_MODE: 'verify' }, deps: { mail: mailbox } });
  });
  after(() => ctx.close());

  const post = (url: string, payload: object) => ctx.app.inject({ method: 'POST', url, payload });
  const mailTo = (to: string, needle: string) => waitFor(async () => mailbox.messages.find((m) => m.to === to && m.text.includes(needle)));
  const signup = (email: string, password = TEST_PASSWORD) => post('/api/auth/signup', { email, password, name: 'Someone' });

  test('a new and a taken address get the same status and body, and neither gets tokens', async () => {
    const owner = uniqueEmail('owner');
    const first = await signup(owner);
    assert.equal(first.statusCode, 202);
    const ownerLink = tokenIn(await mailTo(owner, '#token=ev_'));
    assert.equal((await post('/api/auth/verify-email', { token: ownerLink })).statusCode, 204);

    const taken = await signup(owner.toUpperCase(), 'an attacker chosen passphrase');
    const fresh = await signup(uniqueEmail('fresh'));
    assert.deepEqual([taken.statusCode, taken.body], [fresh.statusCode, fresh.body]);
    assert.deepEqual([taken.statusCode, taken.body], [first.statusCode, first.body]);
    assert.ok(!/accessToken|refreshToken/.test(taken.body + fresh.body));

    // The owner is told, with no link that would verify anything for the attacker.
    const notice = await mailTo(owner, 'already has one');
    assert.match(notice.subject, /tried to sign up/);
    assert.ok(!notice.text.includes('#token='));
    // The attacker's password opens nothing; the owner's still works.
    assert.equal((await post('/api/auth/login', { email: owner, password: 'an attacker chosen passphrase' })).statusCode, 401);
    assert.equal((await post('/api/auth/login', { email: owner, password: TEST_PASSWORD })).statusCode, 200);
  });

  test('an unverified account cannot log in (email_not_verified, only after the right password); verified, it can', async () => {
    const email = uniqueEmail('pending');
    assert.equal((await signup(email)).statusCode, 202);
    const wrong = await post('/api/auth/login', { email, password: 'not the password!' });
    assert.equal(errorBody(wrong).code, 'invalid_credentials');
    const refused = await post('/api/auth/login', { email, password: TEST_PASSWORD });
    assert.equal(refused.statusCode, 403);
    assert.equal(errorBody(refused).code, 'email_not_verified');
    assert.ok(!refused.body.includes('accessToken'));
    const link = tokenIn(await mailTo(email, '#token=ev_'));
    assert.equal((await post('/api/auth/verify-email', { token: link })).statusCode, 204);
    const ok = await post('/api/auth/login', { email, password: TEST_PASSWORD });
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.json<{ user: { emailVerified: boolean } }>().user.emailVerified, true);
  });

  test('a password reset proves the address too: the owner of a squatted address takes it back', async () => {
    const email = uniqueEmail('squatted');
    assert.equal((await signup(email, 'the squatter passphrase 9')).statusCode, 202);
    assert.equal((await post('/api/auth/password/forgot', { email })).statusCode, 202);
    const resetToken = tokenIn(await mailTo(email, '#token=pr_'));
    const newPassword = 'the rightful owner passphrase';
    assert.equal((await post('/api/auth/password/reset', { token: resetToken, newPassword })).statusCode, 204);
    assert.equal((await post('/api/auth/login', { email, password: newPassword })).statusCode, 200);
    assert.equal((await post('/api/auth/login', { email, password: 'the squatter passphrase 9' })).statusCode, 401);
  });

  test('repeated sign-ups with a taken address answer alike but mail its owner at most 3 times an hour', async () => {
    const owner = uniqueEmail('flooded');
    await signup(owner);
    const answers = new Set<string>();
    for (let i = 0; i < 5; i += 1) {
      const res = await signup(owner);
      answers.add(`${res.statusCode} ${res.body}`);
    }
    assert.equal(answers.size, 1);
    const notices = () => mailbox.messages.filter((m) => m.to === owner && m.text.includes('already has one')).length;
    await waitFor(async () => notices() >= 3);
    // Let every after-answer job run before counting: one more sign-up's job queues behind them.
    const marker = uniqueEmail('marker');
    await signup(marker);
    await mailTo(marker, '#token=ev_');
    assert.equal(notices(), 3);
  });

  test('the weak-password rule answers alike for taken and new addresses', async () => {
    const owner = uniqueEmail('weak');
    await signup(owner);
    const taken = await signup(owner, 'passwordpassword');
    const fresh = await signup(uniqueEmail('weak'), 'passwordpassword');
    assert.equal(taken.statusCode, 400);
    assert.deepEqual(errorBody(taken).details, errorBody(fresh).details);
  });
});
