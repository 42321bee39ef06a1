import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Clock } from '../../src/shared/clock.js';
import { bearer, createTestApp, errorBody, signUp, TEST_PASSWORD, type TestContext } from '../helpers/app.js';

/** Idle timeout and absolute lifetime (ASVS 3.3.2), on a simulated clock. */
describe('session lifetime', () => {
  let ctx: TestContext;
  let nowMs = Date.now();
  const clock: Clock = { now: () => nowMs };
  const advanceMinutes = (m: number) => {
    nowMs += m * 60_000;
  };

  before(async () => {
    ctx = await createTestApp({
      env: {
        ACCESS_TOKEN_TTL_SECONDS: '3600',
        SESSION_IDLE_TIMEOUT_SECONDS: '600',
        SESSION_ABSOLUTE_LIFETIME_SECONDS: '3600',
      },
      deps: { clock },
    });
  });
  after(() => ctx.close());

  const me = (token: string) => ctx.app.inject({ url: '/api/auth/me', headers: bearer(token) });

  test('a session idle for longer than the idle timeout is dead', async () => {
    const user = await signUp(ctx.app, 'idle');
    advanceMinutes(9);
    assert.equal((await me(user.accessToken)).statusCode, 200);
    advanceMinutes(9); // active 9 min ago: still inside the 10 min window
    assert.equal((await me(user.accessToken)).statusCode, 200);
    advanceMinutes(11);
    const res = await me(user.accessToken);
    assert.equal(res.statusCode, 401);
    assert.equal(errorBody(res).code, 'invalid_token');
    const refresh = await ctx.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: user.refreshToken } });
    assert.equal(refresh.statusCode, 401);
  });

  test('an active session still ends at its absolute lifetime', async () => {
    const login = await ctx.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: (await signUp(ctx.app, 'abs')).email, password: TEST_PASSWORD } });
    let tokens = login.json<{ accessToken: string; refreshToken: string }>();
    for (let elapsed = 9; elapsed <= 54; elapsed += 9) {
      advanceMinutes(9);
      const res = await ctx.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: tokens.refreshToken } });
      assert.equal(res.statusCode, 200, `refresh at +${elapsed} min`);
      tokens = res.json();
    }
    advanceMinutes(9); // 63 min since login: past the 60 min absolute lifetime, never idle
    assert.equal((await me(tokens.accessToken)).statusCode, 401);
    const res = await ctx.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: tokens.refreshToken } });
    assert.equal(res.statusCode, 401);
  });

  test('an access token past its exp is token_expired (checked before the session)', async () => {
    const user = await signUp(ctx.app, 'exp');
    for (let i = 0; i < 6; i += 1) {
      advanceMinutes(9);
      assert.equal((await me(user.accessToken)).statusCode, 200);
    }
    advanceMinutes(9); // 63 min > 60 min token TTL, active 9 min ago; the session ends at 60 min too

    const res = await me(user.accessToken);
    assert.equal(res.statusCode, 401);
    assert.equal(errorBody(res).code, 'token_expired');
  });
});
