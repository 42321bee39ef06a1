import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config.js';

const base = { NODE_ENV: 'test', BOKA_DATA_DIR: 'memory', BOKA_SECRET_KEY: randomBytes(32).toString('base64url') };

test('DATABASE_POOL_WAIT_MS: default 2000 ms, an integer from 100 to 60000', () => {
  assert.equal(loadConfig(base).databasePoolWaitMs, 2_000);
  assert.equal(loadConfig({ ...base, DATABASE_POOL_WAIT_MS: '' }).databasePoolWaitMs, 2_000);
  for (const good of ['100', '2500', '60000']) {
    assert.equal(loadConfig({ ...base, DATABASE_POOL_WAIT_MS: good }).databasePoolWaitMs, Number(good), good);
  }
  for (const bad of ['99', '0', '-1', '60001', '1.5', '2s', 'soon', 'Infinity']) {
    assert.throws(
      () => loadConfig({ ...base, DATABASE_POOL_WAIT_MS: bad }),
      (e) => e instanceof ConfigError && e.message === `DATABASE_POOL_WAIT_MS must be an integer between 100 and 60000, got "${bad}"`,
      bad,
    );
  }
});
