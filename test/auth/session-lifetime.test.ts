import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { createInProcessBus } from '../../src/cache/in-process-bus.js';
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

/**
 * The shortest idle timeout (60 s) across instances: the last-seen time an instance persists
 * must never lag far enough behind for another instance, reading it cold from the database, to
 * judge a session idle that is in use (ASVS 3.3.2 asks for an idle timeout, not for revoking an
 * active session). Before the fix the write happened at most once a minute whatever the timeout,
 * and instance B revoked a session used on A a second earlier.
 */
describe('session idle timeout across instances', () => {
  let ctx: TestContext;
  let b: FastifyInstance;
  let nowMs = Date.now();
  const clock: Clock = { now: () => nowMs };

  before(async () => {
    const bus = createInProcessBus();
    ctx = await createTestApp({ env: { SESSION_IDLE_TIMEOUT_SECONDS: '60', ACCESS_TOKEN_TTL_SECONDS: '600' }, deps: { clock, bus } });
    b = await buildApp(ctx.config, { db: ctx.database.db, clock, bus });
    await b.ready();
  });
  after(async () => {
    await b.close();
    await ctx.close();
  });

  const me = (app: FastifyInstance, token: string) => app.inject({ url: '/api/auth/me', headers: bearer(token) });
  const persistedLastSeen = async (sessionId: string) =>
    (await ctx.database.db.query<{ t: Date }>('SELECT last_seen_at AS t FROM sessions WHERE id = $1', [sessionId])).rows[0]!.t.getTime();

  test('a session used on A a moment ago is live on a cold instance B', async () => {
    const user = await signUp(ctx.app, 'idle-two-instances');
    const signedUpAt = nowMs;
    // In use on A every 20 s; B has never seen it.
    for (const seconds of [20, 40, 59]) {
      nowMs = signedUpAt + seconds * 1000;
      assert.equal((await me(ctx.app, user.accessToken)).statusCode, 200, `A at +${seconds} s`);
    }
    // A persists last-seen in the background, in batches once a second (ADR 0030): wait until its
    // write for the last request lands (bounded, generous for a loaded machine).
    for (let i = 0; i < 600 && (await persistedLastSeen(user.sessionId)) < signedUpAt + 45_000; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok((await persistedLastSeen(user.sessionId)) >= signedUpAt + 45_000, "A's last-seen batch was written");
    nowMs = signedUpAt + 60_500;
    const res = await me(b, user.accessToken);
    assert.equal(res.statusCode, 200, `B revoked a session used 1.5 s ago: ${res.body}`);
    assert.equal((await me(ctx.app, user.accessToken)).statusCode, 200);
  });

  test('an instance that shuts down writes the last-seen values still waiting for their batch', async () => {
    const user = await signUp(ctx.app, 'idle-shutdown');
    const c = await buildApp(ctx.config, { db: ctx.database.db, clock, bus: createInProcessBus() });
    await c.ready();
    nowMs += 16_000; // past the touch interval (a quarter of 60 s)
    assert.equal((await me(c, user.accessToken)).statusCode, 200);
    const usedAt = nowMs;
    await c.close(); // SIGTERM's drain ends in app.close(): the batch is written, not dropped
    assert.equal(await persistedLastSeen(user.sessionId), usedAt);
  });
});
