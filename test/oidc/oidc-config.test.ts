import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config.js';

const dir = mkdtempSync(join(tmpdir(), 'boka-oidc-config-'));
const secretFile = join(dir, 'secret');
writeFileSync(secretFile, 's3cret-value\n');
const base = { NODE_ENV: 'test', BOKA_DATA_DIR: 'memory', OIDC_REDIRECT_BASE_URL: 'https://api.example.test/', OIDC_APP_URL: 'https://app.example.test/in' };
const load = (env: Record<string, string>) => loadConfig({ ...base, ...env });
const one = (p: Record<string, unknown>) => JSON.stringify([{ id: 'corp', issuer: 'https://idp.example.test', clientId: 'boka', ...p }]);

test('OIDC_PROVIDERS: defaults, secret from a file, JSON inline or in a file', () => {
  const config = load({ OIDC_PROVIDERS: one({ clientSecretFile: secretFile, scopes: ['email'] }) });
  const [p] = config.oidc.providers;
  assert.equal(p?.clientSecret, 's3cret-value', 'one trailing newline dropped');
  assert.deepEqual(p?.scopes, ['openid', 'email'], 'openid is always requested');
  assert.equal(p?.allowSignup, true);
  assert.equal(p?.name, 'corp');
  assert.equal(config.oidc.redirectBaseUrl, 'https://api.example.test');
  assert.equal(config.oidc.requestTimeoutMs, 5000);
  const file = join(dir, 'providers.json');
  writeFileSync(file, one({}));
  assert.equal(load({ OIDC_PROVIDERS: file }).oidc.providers[0]?.clientSecret, undefined);
  assert.deepEqual(loadConfig({ NODE_ENV: 'test', BOKA_DATA_DIR: 'memory' }).oidc.providers, []);
});

test('OIDC_PROVIDERS: every mistake stops the start with the offending field', () => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['bad id', { OIDC_PROVIDERS: one({ id: 'Corp!' }) }, /\.id must match/],
    ['inline secret', { OIDC_PROVIDERS: one({ clientSecret: 'x' }) }, /unknown field "clientSecret"/],
    ['missing secret file', { OIDC_PROVIDERS: one({ clientSecretFile: join(dir, 'nope') }) }, /cannot read/],
    ['issuer not a URL', { OIDC_PROVIDERS: one({ issuer: 'idp' }) }, /issuer must be a URL/],
    ['duplicate id', { OIDC_PROVIDERS: JSON.stringify([{ id: 'a', issuer: 'https://a.test', clientId: 'c' }, { id: 'a', issuer: 'https://b.test', clientId: 'c' }]) }, /duplicate id/],
    ['bad scope', { OIDC_PROVIDERS: one({ scopes: ['a b'] }) }, /scopes/],
    ['not JSON', { OIDC_PROVIDERS: '[nope' }, /JSON array/],
    ['no redirect base', { OIDC_PROVIDERS: one({}), OIDC_REDIRECT_BASE_URL: '' }, /OIDC_REDIRECT_BASE_URL/],
    ['no app URL', { OIDC_PROVIDERS: one({}), OIDC_APP_URL: '' }, /OIDC_APP_URL/],
    ['timeout out of range', { OIDC_REQUEST_TIMEOUT_MS: '5' }, /OIDC_REQUEST_TIMEOUT_MS/],
  ];
  for (const [label, env, message] of cases) assert.throws(() => load(env), (err: unknown) => err instanceof ConfigError && message.test(err.message), label);
});

test('PUBLIC_URL is the redirect base when OIDC_REDIRECT_BASE_URL is not set', () => {
  const config = load({ OIDC_PROVIDERS: one({}), OIDC_REDIRECT_BASE_URL: '', PUBLIC_URL: 'https://public.example.test' });
  assert.equal(config.oidc.redirectBaseUrl, 'https://public.example.test');
});
