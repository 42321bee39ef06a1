/**
 * The seed's post-rollback checks against a real Boka on a real port (PGlite, or the server's
 * PostgreSQL with DATABASE_URL): each check passes on a healthy blue and fails, named, when
 * what it checks is broken.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSessionSample, callJson, type SessionSample } from '../../src/rollout/session-sample.js';
import { verifyRollback } from '../../src/rollout/verify-rollback.service.js';
import { createTestApp, type TestContext } from '../helpers/app.js';

describe('verifyRollback (real app on a port)', () => {
  let ctx: TestContext;
  let url: string;
  before(async () => {
    ctx = await createTestApp({ env: { DEEP_HEALTH_BUDGET_MS: '5000', DEEP_HEALTH_PER_MINUTE: '600' } });
    url = await ctx.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => ctx?.close());

  const options = (samples: SessionSample[]) => ({ blue: [url], deepPath: '/api/health/deep', timeoutMs: 10_000, samples, now: Date.now });
  const byName = (checks: readonly { name: string; ok: boolean; detail: string }[]) => Object.fromEntries(checks.map((c) => [c.name, c]));

  it('passes all four on a healthy blue, with sessions created via both colours', async () => {
    const samples = [await createSessionSample(url, 'blue', 10_000), await createSessionSample(url, 'green', 10_000)];
    const before = samples.map((s) => s.refreshToken);
    const result = await verifyRollback(options(samples));
    assert.deepEqual(result.checks.map((c) => [c.name, c.ok]), [['database', true], ['sessions', true], ['login', true], ['permissions', true]], JSON.stringify(result.checks));
    assert.equal(result.ok, true);
    assert.match(byName(result.checks).permissions?.detail ?? '', /owner 200, anonymous 401, non-member 403/);
    // The refresh rotated the tokens; the new ones are kept for the next verification.
    assert.notDeepEqual(samples.map((s) => s.refreshToken), before);
    assert.equal((await verifyRollback(options(samples))).ok, true);
  });

  it('fails "sessions" when a sampled session no longer validates (revoked on blue)', async () => {
    const samples = [await createSessionSample(url, 'blue', 10_000), await createSessionSample(url, 'green', 10_000)];
    const revoked = samples[1];
    assert.ok(revoked);
    assert.equal((await callJson(url, 'POST', '/api/auth/logout', { token: revoked.accessToken, timeoutMs: 10_000 })).status, 204);
    const result = await verifyRollback(options(samples));
    const checks = byName(result.checks);
    assert.equal(result.ok, false);
    assert.equal(checks.sessions?.ok, false);
    assert.match(checks.sessions?.detail ?? '', /session via green: me 401/);
    assert.equal(checks.database?.ok, true);
    assert.equal(checks.login?.ok, true);
  });

  it('fails "login" when the synthetic user cannot sign in, and every session check without samples', async () => {
    const sample = await createSessionSample(url, 'blue', 10_000);
    const wrong = { ...sample, password: 'not the password at all 1!' };
    const checks = byName((await verifyRollback(options([wrong]))).checks);
    assert.equal(checks.login?.ok, false);
    assert.match(checks.login?.detail ?? '', /login 401/);

    const none = await verifyRollback(options([]));
    assert.deepEqual(none.checks.map((c) => [c.name, c.ok]), [['database', true], ['sessions', false], ['login', false], ['permissions', false]]);
  });

  it('fails "database" when blue does not answer', async () => {
    const result = await verifyRollback({ ...options([]), blue: ['http://127.0.0.1:9'] });
    assert.equal(byName(result.checks).database?.ok, false);
  });
});
