import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { bearer, createTestApp, errorBody, signUp, TEST_PASSWORD, type TestContext } from '../helpers/app.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

// Two instances of the app on one database and one Redis, with a key prefix unique to this run.
describe('limits shared through Redis; fail closed when Redis is down', () => {
  const prefix = `boka-test:${randomBytes(6).toString('hex')}`;
  let a: TestContext;
  let b: FastifyInstance;
  let down: FastifyInstance;
  before(async () => {
    const env = { REDIS_URL, RATE_LIMIT_KEY_PREFIX: prefix };
    a = await createTestApp({ env });
    b = await buildApp(a.config, { db: a.database.db });
    await b.ready();
    // Nothing listens on port 1: the store is unreachable from the start.
    const downConfig = loadConfig(
      { NODE_ENV: 'test', BOKA_DATA_DIR: 'memory', BOKA_SECRET_KEY: a.config.secretKey!, REDIS_URL: 'redis://127.0.0.1:1', RATE_LIMIT_STORE_FAILURE: 'memory' },
      { databaseUrl: a.database.url },
    );
    down = await buildApp(downConfig, { db: a.database.db });
    await down.ready();
  });
  after(async () => {
    await down.close();
    await b.close();
    await a.close();
  });

  test('failures on instance A lock the account on instance B', async () => {
    const user = await signUp(a.app, 'shared');
    for (let i = 0; i < 3; i += 1) assert.equal((await a.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: 'wrong password 1' } })).statusCode, 401);
    for (let i = 0; i < 2; i += 1) assert.equal((await b.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: 'wrong password 1' } })).statusCode, 401);
    const locked = await b.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: TEST_PASSWORD } });
    assert.equal(locked.statusCode, 429);
    assert.equal(errorBody(locked).code, 'quota_exceeded');
    assert.equal((await a.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: TEST_PASSWORD } })).statusCode, 429);
  });

  test('with Redis unreachable, auth endpoints answer 503 service_unavailable; other routes degrade per RATE_LIMIT_STORE_FAILURE', async () => {
    const user = await signUp(a.app, 'down');
    const login = await down.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: TEST_PASSWORD } });
    assert.equal(login.statusCode, 503);
    assert.equal(errorBody(login).code, 'service_unavailable');
    const me = await down.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(user.accessToken) });
    assert.equal(me.statusCode, 503);
    // A non-auth route falls back to per-instance limits (`memory`), still with RateLimit headers.
    const tenants = await down.inject({ method: 'POST', url: '/api/tenants', headers: bearer(user.accessToken), payload: { name: 'd', slug: `d-${randomBytes(4).toString('hex')}` } });
    assert.equal(tenants.statusCode, 201);
    assert.ok(tenants.headers['ratelimit-remaining']);
  });
});
