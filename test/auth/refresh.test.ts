import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bearer, createTestApp, errorBody, signUp, type TestContext } from '../helpers/app.js';

type Tokens = { accessToken: string; refreshToken: string; sessionId: string };

/** Refresh rotation with reuse detection (RFC 6819 §5.2.2.3; OAuth 2.0 Security BCP, RFC 9700 §4.14.2). */
describe('refresh token rotation', () => {
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestApp();
  });
  after(() => ctx.close());

  const refresh = (refreshToken: string) => ctx.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken } });

  test('a refresh returns a new pair for the same session', async () => {
    const user = await signUp(ctx.app, 'rotate');
    const res = await refresh(user.refreshToken);
    assert.equal(res.statusCode, 200);
    const next = res.json<Tokens & { user: { id: string } }>();
    assert.equal(next.sessionId, user.sessionId);
    assert.equal(next.user.id, user.id);
    assert.notEqual(next.refreshToken, user.refreshToken);
    assert.equal((await ctx.app.inject({ url: '/api/auth/me', headers: bearer(next.accessToken) })).statusCode, 200);
    // The new refresh token rotates again.
    assert.equal((await refresh(next.refreshToken)).statusCode, 200);
  });

  test('replaying a rotated refresh token revokes the whole session', async () => {
    const user = await signUp(ctx.app, 'reuse');
    const next = (await refresh(user.refreshToken)).json<Tokens>();

    const replay = await refresh(user.refreshToken);
    assert.equal(replay.statusCode, 401);
    assert.equal(errorBody(replay).code, 'invalid_token');
    assert.deepEqual(errorBody(replay).details, { reason: 'refresh_token_reuse' });

    // The legitimate holder's tokens from the rotation die with the session.
    assert.equal((await ctx.app.inject({ url: '/api/auth/me', headers: bearer(next.accessToken) })).statusCode, 401);
    assert.equal((await refresh(next.refreshToken)).statusCode, 401);
  });

  test('two concurrent refreshes with one token: at most one wins, and the session is then revoked', async () => {
    const user = await signUp(ctx.app, 'race');
    const results = await Promise.all([refresh(user.refreshToken), refresh(user.refreshToken)]);
    const statuses = results.map((r) => r.statusCode).sort();
    assert.deepEqual(statuses, [200, 401]);
    const winner = results.find((r) => r.statusCode === 200)!.json<Tokens>();
    assert.equal((await ctx.app.inject({ url: '/api/auth/me', headers: bearer(winner.accessToken) })).statusCode, 401);
  });

  test('forged, truncated or foreign refresh tokens are 401 invalid_token', async () => {
    const user = await signUp(ctx.app, 'forge');
    const [id] = user.refreshToken.split('.');
    for (const token of [
      `${id}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`,
      user.refreshToken.slice(0, -2),
      'rt_not-a-token',
      '',
      'x'.repeat(400),
    ]) {
      const res = await refresh(token);
      assert.equal(res.statusCode, 401, token);
      assert.equal(errorBody(res).code, 'invalid_token');
    }
    // The real one still works: failed guesses did not burn it.
    assert.equal((await refresh(user.refreshToken)).statusCode, 200);
  });

  test('refresh tokens are stored only as SHA-256 digests', async () => {
    const user = await signUp(ctx.app, 'stored');
    const secret = user.refreshToken.split('.')[1]!;
    const rows = await ctx.database.db.query<{ secret_hash: Uint8Array }>('SELECT secret_hash FROM refresh_tokens');
    for (const row of rows.rows) {
      assert.equal(Buffer.from(row.secret_hash).length, 32);
      assert.ok(!Buffer.from(row.secret_hash).toString('utf8').includes(secret));
    }
    const dump = JSON.stringify((await ctx.database.db.query('SELECT * FROM refresh_tokens')).rows);
    assert.ok(!dump.includes(secret));
  });
});
