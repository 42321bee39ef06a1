import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatSmokeResult, runSmokeSuite } from '../../src/rollout/smoke.js';
import { createFakeStore, startFakeBoka } from './helpers/fake-boka.js';
import { startBackend } from './helpers/backends.js';

describe('smoke suite', () => {
  it('passes every check against a working Boka, one line per check', async () => {
    const boka = await startFakeBoka('green', createFakeStore());
    try {
      const result = await runSmokeSuite(boka.url, { extraChecks: [{ name: 'ready', method: 'GET', path: '/api/health/ready', expectStatus: 200, body: undefined, auth: false }] });
      assert.equal(result.ok, true, formatSmokeResult(result));
      assert.deepEqual(result.checks.map((c) => c.name), ['signup', 'login', 'me', 'create tenant', 'ready', 'logout', 'old token refused after logout']);
      assert.equal(formatSmokeResult(result).split('\n').length, 7);
    } finally {
      await boka.close();
    }
  });

  it('fails when logout does not revoke the session', async () => {
    const boka = await startFakeBoka('green', createFakeStore(), { logoutRevokes: false });
    try {
      const result = await runSmokeSuite(boka.url);
      assert.equal(result.ok, false);
      assert.deepEqual(result.checks.filter((c) => !c.ok).map((c) => c.name), ['old token refused after logout']);
      assert.match(formatSmokeResult(result), /FAIL old token refused after logout \(200\): expected 401, got 200/);
    } finally {
      await boka.close();
    }
  });

  it('reports a server without Boka routes, skipping what needs a login', async () => {
    const other = await startBackend('x', (_req, res) => void res.writeHead(404).end());
    try {
      const result = await runSmokeSuite(other.url);
      assert.equal(result.ok, false);
      assert.equal(result.checks.find((c) => c.name === 'me')?.detail, 'skipped: login failed');
    } finally {
      await other.close();
    }
  });

  it('reports an unreachable server instead of throwing', async () => {
    const gone = await startBackend('x');
    await gone.close();
    const result = await runSmokeSuite(gone.url, { timeoutMs: 2_000 });
    assert.equal(result.ok, false);
    assert.match(result.checks[0]?.detail ?? '', /ECONNREFUSED|connect/i);
  });
});
