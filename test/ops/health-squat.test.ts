import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PROBE } from '../../src/ops/probe.repo.js';
import { bearer, createTestApp, signUp, TEST_PASSWORD, type TestContext } from '../helpers/app.js';

/**
 * Issue 12, item 8: the probe's identities exist from the migrations on, so signing up its email
 * or creating a tenant with its slug before the first deep check cannot disable /api/health/deep
 * (and with it every rollout).
 */
describe('deep health cannot be squatted', () => {
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestApp();
  });
  after(() => ctx.close());

  test('the probe email and slugs are taken before any deep check; the deep check still passes', async () => {
    const squat = await ctx.app.inject({
      method: 'POST',
      url: '/api/auth/signup',
      payload: { email: PROBE.email.toUpperCase(), password: TEST_PASSWORD, name: 'squatter' },
    });
    // Whatever sign-up answers for a taken address (it may be equalised against enumeration), it is no 5xx.
    assert.ok(squat.statusCode < 500, `signup as the probe: ${squat.statusCode} ${squat.body}`);
    const owner = await signUp(ctx.app, 'squatter');
    for (const slug of ['boka-health-probe-a', 'boka-health-probe-b']) {
      const res = await ctx.app.inject({ method: 'POST', url: '/api/tenants', headers: bearer(owner.accessToken), payload: { name: slug, slug } });
      assert.ok(res.statusCode >= 400 && res.statusCode < 500, `tenant ${slug}: ${res.statusCode} ${res.body}`);
    }
    // Nobody can sign in as the probe before an instance has set its derived password.
    const login = await ctx.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: PROBE.email, password: TEST_PASSWORD } });
    assert.equal(login.statusCode, 401);
    const deep = await ctx.app.inject({ method: 'GET', url: '/api/health/deep' });
    assert.equal(deep.statusCode, 200, deep.body);
    const checks = deep.json<{ checks: Record<string, { status: string }> }>().checks;
    for (const name of ['database', 'authentication', 'roleValidation', 'tenantIsolation']) assert.equal(checks[name]?.status, 'pass', name);
  });
});
