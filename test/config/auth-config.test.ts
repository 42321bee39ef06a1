import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config.js';

const base = { BOKA_DATA_DIR: 'memory', BOKA_SECRET_KEY: randomBytes(32).toString('base64url') };

test('AUTH_SIGNUP_MODE defaults to verify in production and open elsewhere (ADR 0013)', () => {
  assert.equal(loadConfig({ ...base, NODE_ENV: 'production' }).auth.signupMode, 'verify');
  assert.equal(loadConfig({ ...base, NODE_ENV: 'development' }).auth.signupMode, 'open');
  assert.equal(loadConfig({ ...base, NODE_ENV: 'test' }).auth.signupMode, 'open');
  assert.equal(loadConfig({ ...base, NODE_ENV: 'production', AUTH_SIGNUP_MODE: 'open' }).auth.signupMode, 'open');
  assert.equal(loadConfig({ ...base, NODE_ENV: 'test', AUTH_SIGNUP_MODE: 'verify' }).auth.signupMode, 'verify');
  assert.throws(() => loadConfig({ ...base, AUTH_SIGNUP_MODE: 'closed' }), (e) => e instanceof ConfigError && /AUTH_SIGNUP_MODE/.test(e.message));
});

test('PASSWORD_MIN_SCORE is a zxcvbn score 0–4, default 3', () => {
  assert.equal(loadConfig({ ...base, NODE_ENV: 'test' }).auth.passwordMinScore, 3);
  assert.equal(loadConfig({ ...base, NODE_ENV: 'test', PASSWORD_MIN_SCORE: '0' }).auth.passwordMinScore, 0);
  assert.throws(() => loadConfig({ ...base, PASSWORD_MIN_SCORE: '5' }), (e) => e instanceof ConfigError && /PASSWORD_MIN_SCORE/.test(e.message));
});
