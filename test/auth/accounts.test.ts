import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { bearer, createTestApp, errorBody, signUp, TEST_PASSWORD, uniqueEmail, type TestContext } from '../helpers/app.js';

const randomPassword = (length: number) => randomBytes(length).toString('base64url').slice(0, length);

describe('accounts and sessions over HTTP', () => {
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestApp();
  });
  after(() => ctx.close());

  test('signup returns the user, a token pair, expiresIn and the session id', async () => {
    const email = uniqueEmail('Signup');
    const res = await ctx.app.inject({ method: 'POST', url: '/api/auth/signup', payload: { email, password: TEST_PASSWORD, name: 'Ada' } });
    assert.equal(res.statusCode, 201);
    const body = res.json();
    assert.deepEqual(Object.keys(body).sort(), ['accessToken', 'expiresIn', 'refreshToken', 'sessionId', 'user']);
    assert.equal(body.user.email, email);
    assert.equal(body.user.name, 'Ada');
    assert.equal(body.expiresIn, 600);
    assert.match(body.refreshToken, /^rt_/);
    assert.equal(body.accessToken.split('.').length, 3);
  });

  test('a duplicate email, in any letter case, is 409 duplicate_resource', async () => {
    const email = uniqueEmail('dup');
    const first = await ctx.app.inject({ method: 'POST', url: '/api/auth/signup', payload: { email, password: TEST_PASSWORD, name: 'A' } });
    assert.equal(first.statusCode, 201);
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/api/auth/signup',
      payload: { email: email.toUpperCase(), password: TEST_PASSWORD, name: 'B' },
    });
    assert.equal(res.statusCode, 409);
    assert.equal(errorBody(res).code, 'duplicate_resource');
  });

  // ASVS 2.1.1 (≥ 12 characters) and 2.1.2 (≤ 128 allowed, longer rejected).
  test('passwords must be 12 to 128 characters', async () => {
    for (const [password, status] of [
      // Random strings: the length rule is under test here, not the strength rule.
      [randomPassword(11), 400],
      [randomPassword(12), 201],
      [randomPassword(128), 201],
      [randomPassword(129), 400],
    ] as const) {
      const res = await ctx.app.inject({ method: 'POST', url: '/api/auth/signup', payload: { email: uniqueEmail(), password, name: 'P' } });
      assert.equal(res.statusCode, status, `length ${password.length}`);
      if (status === 400) assert.equal(errorBody(res).details instanceof Array, true);
    }
  });

  test('login works with any letter case of the email', async () => {
    const user = await signUp(ctx.app, 'login');
    const res = await ctx.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email.toUpperCase(), password: TEST_PASSWORD } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().user.id, user.id);
    assert.notEqual(res.json().sessionId, user.sessionId);
  });

  // No account enumeration (ASVS 2.2 / 3.2): the same status and body apart from the request id.
  test('unknown email and wrong password give the same 401 invalid_credentials body', async () => {
    const user = await signUp(ctx.app, 'enum');
    const wrong = await ctx.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: 'not the password!' } });
    const unknown = await ctx.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: uniqueEmail('nobody'), password: 'not the password!' } });
    for (const res of [wrong, unknown]) assert.equal(res.statusCode, 401);
    const strip = (b: Record<string, unknown>) => ({ ...b, requestId: undefined, timestamp: undefined });
    assert.deepEqual(strip(errorBody(wrong)), strip(errorBody(unknown)));
    assert.equal(errorBody(wrong).code, 'invalid_credentials');
  });

  test('me returns the user, memberships and the current session', async () => {
    const user = await signUp(ctx.app, 'me');
    const res = await ctx.app.inject({ url: '/api/auth/me', headers: bearer(user.accessToken) });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.user.id, user.id);
    assert.deepEqual(body.memberships, []);
    assert.equal(body.session.id, user.sessionId);
    assert.ok(Date.parse(body.session.expiresAt) > Date.parse(body.session.createdAt));
  });

  test('logout kills the access token and the refresh token of that session', async () => {
    const user = await signUp(ctx.app, 'logout');
    const out = await ctx.app.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(user.accessToken) });
    assert.equal(out.statusCode, 204);
    const me = await ctx.app.inject({ url: '/api/auth/me', headers: bearer(user.accessToken) });
    assert.equal(me.statusCode, 401);
    assert.equal(errorBody(me).code, 'invalid_token');
    const refresh = await ctx.app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: user.refreshToken } });
    assert.equal(refresh.statusCode, 401);
    assert.equal(errorBody(refresh).code, 'invalid_token');
  });

  // ASVS 3.3.4: users can view and terminate their active sessions.
  test('a user lists their live sessions and revokes one; it dies on the next request', async () => {
    const user = await signUp(ctx.app, 'sessions');
    const second = await ctx.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { 'user-agent': 'second-device' },
      payload: { email: user.email, password: TEST_PASSWORD },
    });
    const other = second.json<{ accessToken: string; sessionId: string }>();
    const list = await ctx.app.inject({ url: '/api/auth/sessions', headers: bearer(user.accessToken) });
    assert.equal(list.statusCode, 200);
    const items = list.json<{ items: Array<{ id: string; current: boolean; userAgent: string | null }> }>().items;
    assert.equal(items.length, 2);
    assert.equal(items.find((s) => s.id === user.sessionId)?.current, true);
    assert.equal(items.find((s) => s.id === other.sessionId)?.userAgent, 'second-device');

    // The second device works until it is revoked from the first.
    assert.equal((await ctx.app.inject({ url: '/api/auth/me', headers: bearer(other.accessToken) })).statusCode, 200);
    const del = await ctx.app.inject({ method: 'DELETE', url: `/api/auth/sessions/${other.sessionId}`, headers: bearer(user.accessToken) });
    assert.equal(del.statusCode, 204);
    assert.equal((await ctx.app.inject({ url: '/api/auth/me', headers: bearer(other.accessToken) })).statusCode, 401);
    const after = await ctx.app.inject({ url: '/api/auth/sessions', headers: bearer(user.accessToken) });
    assert.deepEqual(after.json<{ items: Array<{ id: string }> }>().items.map((s) => s.id), [user.sessionId]);
  });

  test("another user's session id is 404, and that session stays alive", async () => {
    const alice = await signUp(ctx.app, 'alice');
    const bob = await signUp(ctx.app, 'bob');
    const del = await ctx.app.inject({ method: 'DELETE', url: `/api/auth/sessions/${bob.sessionId}`, headers: bearer(alice.accessToken) });
    assert.equal(del.statusCode, 404);
    assert.equal((await ctx.app.inject({ url: '/api/auth/me', headers: bearer(bob.accessToken) })).statusCode, 200);
  });

  test('protected routes without a token are 401 missing_authorization', async () => {
    const res = await ctx.app.inject({ url: '/api/auth/me' });
    assert.equal(res.statusCode, 401);
    assert.equal(errorBody(res).code, 'missing_authorization');
    assert.equal(res.headers['x-request-id'], errorBody(res).requestId);
  });

  test('the JWKS document serves the public signing key only', async () => {
    const res = await ctx.app.inject({ url: '/.well-known/jwks.json' });
    assert.equal(res.statusCode, 200);
    const { keys } = res.json<{ keys: Array<Record<string, string>> }>();
    assert.equal(keys.length, 1);
    assert.equal(keys[0]!.kty, 'EC');
    assert.equal(keys[0]!.alg, 'ES256');
    assert.ok(keys[0]!.kid);
    assert.equal(keys[0]!.d, undefined, 'private key material must never be published');
  });

  test('health reports status, version and uptime', async () => {
    const res = await ctx.app.inject({ url: '/api/health' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(Object.keys(res.json()).sort(), ['status', 'uptime', 'version']);
    assert.equal(res.json().version, ctx.config.version);
  });
});
