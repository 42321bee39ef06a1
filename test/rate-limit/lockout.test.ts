import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestApp, errorBody, signUp, TEST_PASSWORD, uniqueEmail, bearer, type TestContext } from '../helpers/app.js';

// TRUST_PROXY=127.0.0.1: light-my-request connects from 127.0.0.1, so X-Forwarded-For picks
// the client IP and each test gets its own per-IP bucket; `remoteAddress` plays an untrusted peer.
describe('brute-force lockout and rate limits (ASVS 2.2.1)', () => {
  let ctx: TestContext;
  let ipCounter = 0;
  const freshIp = () => `198.51.100.${(ipCounter += 1)}`;
  before(async () => {
    ctx = await createTestApp({ env: { TRUST_PROXY: '127.0.0.1', RATE_LIMIT_AUTH_FAILURES_PER_IP: '8', RATE_LIMIT_PER_PRINCIPAL_PER_MINUTE: '30' } });
  });
  after(() => ctx.close());

  const login = (email: string, password: string, ip: string) =>
    ctx.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password }, headers: { 'x-forwarded-for': ip } });

  test('five consecutive failures lock the account for 15 minutes, even for the right password', async () => {
    const user = await signUp(ctx.app, 'lock');
    for (let i = 0; i < 5; i += 1) assert.equal((await login(user.email, 'wrong password 123', freshIp())).statusCode, 401);
    const locked = await login(user.email, TEST_PASSWORD, freshIp());
    assert.equal(locked.statusCode, 429);
    assert.equal(errorBody(locked).code, 'quota_exceeded');
    const retryAfter = Number(locked.headers['retry-after']);
    assert.ok(retryAfter > 14 * 60 && retryAfter <= 15 * 60, `Retry-After ${retryAfter}`);
  });

  test('an unknown email locks the same way, with an identical body (no account enumeration)', async () => {
    const ghost = uniqueEmail('ghost');
    const real = await signUp(ctx.app, 'real');
    for (let i = 0; i < 5; i += 1) {
      await login(ghost, 'wrong password 123', freshIp());
      await login(real.email, 'wrong password 123', freshIp());
    }
    const a = errorBody(await login(ghost, 'x', freshIp()));
    const b = errorBody(await login(real.email, 'x', freshIp()));
    assert.deepEqual({ ...a, requestId: '', timestamp: '' }, { ...b, requestId: '', timestamp: '' });
  });

  test('a success resets the consecutive count', async () => {
    const user = await signUp(ctx.app, 'reset');
    for (let round = 0; round < 2; round += 1) {
      for (let i = 0; i < 4; i += 1) assert.equal((await login(user.email, 'wrong password 123', freshIp())).statusCode, 401);
      assert.equal((await login(user.email, TEST_PASSWORD, freshIp())).statusCode, 200);
    }
  });

  test('per client IP: failures across many accounts from one address are capped', async () => {
    const ip = freshIp();
    for (let i = 0; i < 8; i += 1) assert.equal((await login(uniqueEmail('spray'), 'wrong password 123', ip)).statusCode, 401);
    const blocked = await login(uniqueEmail('spray'), 'wrong password 123', ip);
    assert.equal(blocked.statusCode, 429);
    assert.ok(blocked.headers['retry-after']);
    // Another client is unaffected.
    assert.equal((await login(uniqueEmail('spray'), 'wrong password 123', freshIp())).statusCode, 401);
  });

  test('X-Forwarded-For is honoured only from a trusted proxy', async () => {
    const spoofer = '203.0.113.9';
    // An untrusted peer: its X-Forwarded-For is ignored, so rotating it does not escape the limit.
    for (let i = 0; i < 8; i += 1) {
      await ctx.app.inject({ method: 'POST', url: '/api/auth/login', remoteAddress: spoofer, headers: { 'x-forwarded-for': freshIp() }, payload: { email: uniqueEmail('s'), password: 'nope nope nope' } });
    }
    const res = await ctx.app.inject({ method: 'POST', url: '/api/auth/login', remoteAddress: spoofer, headers: { 'x-forwarded-for': freshIp() }, payload: { email: uniqueEmail('s'), password: 'nope nope nope' } });
    assert.equal(res.statusCode, 429);
  });

  test('refresh failures count per IP too', async () => {
    const ip = freshIp();
    for (let i = 0; i < 8; i += 1) {
      const r = await ctx.app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { 'x-forwarded-for': ip }, payload: { refreshToken: 'rt_00000000-0000-0000-0000-000000000000.AAAAAAAAAAAAAAAAAAAA' } });
      assert.equal(r.statusCode, 401);
    }
    const r = await ctx.app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { 'x-forwarded-for': ip }, payload: { refreshToken: 'rt_x.y' } });
    assert.equal(r.statusCode, 429);
  });

  test('per-principal limit with RateLimit-* headers (draft-ietf-httpapi-ratelimit-headers)', async () => {
    const user = await signUp(ctx.app, 'busy');
    let last;
    for (let i = 0; i < 30; i += 1) {
      last = await ctx.app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(user.accessToken) });
      assert.equal(last.statusCode, 200);
    }
    assert.equal(last!.headers['ratelimit-limit'], '30');
    assert.equal(last!.headers['ratelimit-remaining'], '0');
    assert.equal(last!.headers['ratelimit-policy'], '30;w=60');
    assert.ok(Number(last!.headers['ratelimit-reset']) <= 60);
    const over = await ctx.app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(user.accessToken) });
    assert.equal(over.statusCode, 429);
    assert.equal(errorBody(over).code, 'quota_exceeded');
    assert.ok(Number(over.headers['retry-after']) >= 1);
    // The limit is per principal: another user still gets through.
    const other = await signUp(ctx.app, 'calm');
    assert.equal((await ctx.app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(other.accessToken) })).statusCode, 200);
  });
});

// ASVS 2.2.1: no more than 100 failed attempts per hour on one account, even when the
// attacker interleaves successes (e.g. with a second, known account of the victim's) so the
// five-in-a-row lock never trips.
describe('hourly cap on failed attempts per account (ASVS 2.2.1)', () => {
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestApp({ env: { RATE_LIMIT_AUTH_FAILURES_PER_IP: '100000' } });
  });
  after(() => ctx.close());

  const login = (email: string, password: string) =>
    ctx.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password } });

  test('100 failures in the hour lock the account, even for the right password', async () => {
    const user = await signUp(ctx.app, 'hourly');
    // 25 rounds of four failures (100 in all), a success between rounds resetting the run of five.
    for (let round = 0; round < 25; round += 1) {
      if (round > 0) assert.equal((await login(user.email, TEST_PASSWORD)).statusCode, 200, `success before round ${round}`);
      for (let i = 0; i < 4; i += 1) assert.equal((await login(user.email, 'wrong password 123')).statusCode, 401);
    }
    const capped = await login(user.email, TEST_PASSWORD);
    assert.equal(capped.statusCode, 429);
    assert.equal(errorBody(capped).code, 'quota_exceeded');
    assert.ok(Number(capped.headers['retry-after']) > 0);
  });
});
