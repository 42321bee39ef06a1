import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { Secret, TOTP } from 'otpauth';
import { buildApp } from '../../src/app.js';
import { createInProcessBus } from '../../src/cache/in-process-bus.js';
import { bearer, createTenant, createTestApp, errorBody, signUp, TEST_PASSWORD, type TestContext } from '../helpers/app.js';

// ASVS 4.3.1 / 2.8: MFA state and a tenant's MFA requirement apply on every instance from the
// next request, not after a cache TTL.
describe('MFA state and tenant MFA policy across instances', () => {
  let ctx: TestContext;
  let b: FastifyInstance;
  before(async () => {
    const bus = createInProcessBus();
    ctx = await createTestApp({ deps: { bus } });
    b = await buildApp(ctx.config, { db: ctx.database.db, bus });
    await b.ready();
  });
  after(async () => {
    await b.close();
    await ctx.close();
  });

  test('a policy set on one instance is enforced by the other from its next request', async () => {
    const owner = await signUp(ctx.app, 'policy-owner');
    const tenant = await createTenant(ctx.app, owner);
    const adminCall = () => b.inject({ method: 'GET', url: `/api/tenants/${tenant.id}/api-keys`, headers: bearer(owner.accessToken) });
    assert.equal((await adminCall()).statusCode, 200, 'B has the empty policy cached now');
    const setPolicy = (roles: string[]) =>
      ctx.app.inject({ method: 'PUT', url: `/api/tenants/${tenant.id}/security-policy`, headers: bearer(owner.accessToken), payload: { requireMfaFor: roles } });
    assert.equal((await setPolicy(['owner'])).statusCode, 200);
    const blocked = await adminCall();
    assert.equal(blocked.statusCode, 403);
    assert.equal(errorBody(blocked).code, 'mfa_required');
    assert.equal((await setPolicy([])).statusCode, 403, 'A enforces it too (the owner has no MFA)');
  });

  test('MFA enabled on one instance: the other asks for the second factor at the next login', async () => {
    const user = await signUp(ctx.app, 'mfa-user');
    const login = () => b.inject({ method: 'POST', url: '/api/auth/login', payload: { email: user.email, password: TEST_PASSWORD } });
    assert.equal((await login()).statusCode, 200, 'B has "MFA off" cached now');
    const post = (url: string, payload: object) => ctx.app.inject({ method: 'POST', url, headers: bearer(user.accessToken), payload });
    const { secret } = (await post('/api/auth/mfa/totp/setup', {})).json<{ secret: string }>();
    const code = new TOTP({ secret: Secret.fromBase32(secret) }).generate();
    assert.equal((await post('/api/auth/mfa/totp/enable', { code })).statusCode, 200);
    const second = await login();
    assert.equal(second.statusCode, 401);
    assert.equal(errorBody(second).code, 'mfa_required');
  });
});
