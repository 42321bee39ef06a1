import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config.js';

const dir = mkdtempSync(join(tmpdir(), 'boka-secrets-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function secretFile(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}

describe('secret settings from files (<NAME>_FILE)', () => {
  it('reads every secret setting from its _FILE, dropping one trailing newline', () => {
    const key = randomBytes(32).toString('base64url');
    const config = loadConfig({
      BOKA_SECRET_KEY_FILE: secretFile('key', `${key}\n`),
      DATABASE_URL_FILE: secretFile('db', 'postgres://app:s3cret@db.internal:5432/boka\n'),
      REDIS_URL_FILE: secretFile('redis', 'redis://:pw@cache:6379'),
      SMTP_URL_FILE: secretFile('smtp', 'smtps://u:p@mail:465\n'),
      HEALTH_TOKEN_FILE: secretFile('health', 'health-token\n'),
      METRICS_TOKEN_FILE: secretFile('metrics', 'metrics-token\r\n'),
    });
    assert.equal(config.secretKey, key);
    assert.deepEqual(config.secretKeyOrigin, { source: 'BOKA_SECRET_KEY_FILE' });
    assert.equal(config.databaseUrl, 'postgres://app:s3cret@db.internal:5432/boka');
    assert.equal(config.redisUrl, 'redis://:pw@cache:6379');
    assert.equal(config.smtpUrl, 'smtps://u:p@mail:465');
    assert.equal(config.ops.healthToken, 'health-token');
    assert.equal(config.ops.metricsToken, 'metrics-token');
  });

  it('refuses both forms at once, an unreadable file and an empty file, naming the variable', () => {
    const token = secretFile('both', 'x');
    assert.throws(() => loadConfig({ HEALTH_TOKEN: 'y', HEALTH_TOKEN_FILE: token }), (e) => e instanceof ConfigError && /HEALTH_TOKEN or HEALTH_TOKEN_FILE/.test(e.message));
    assert.throws(() => loadConfig({ REDIS_URL_FILE: join(dir, 'absent') }), (e) => e instanceof ConfigError && /REDIS_URL_FILE: cannot read .*absent \(ENOENT\)/.test(e.message));
    assert.throws(() => loadConfig({ SMTP_URL_FILE: secretFile('empty', '\n') }), (e) => e instanceof ConfigError && /SMTP_URL_FILE: .* is empty/.test(e.message));
    assert.throws(() => loadConfig({ BOKA_SECRET_KEY_FILE: secretFile('short', 'abc') }), /at least 32 bytes/);
  });

  it('requires the key with a server database, from either form', () => {
    assert.throws(() => loadConfig({ DATABASE_URL: 'postgres://x@y/z' }), /BOKA_SECRET_KEY \(or BOKA_SECRET_KEY_FILE\) is required/);
    assert.throws(() => loadConfig({ BOKA_DATA_DIR: 'memory' }, { databaseUrl: 'postgres://x@y/z' }), /is required with DATABASE_URL/);
  });
});

describe('the secret key is resolved once, with the config', () => {
  it('embedded: generated next to the data directory (0600) on first load, the same key afterwards', () => {
    const dataDir = join(dir, 'app', 'data');
    const first = loadConfig({ BOKA_DATA_DIR: dataDir });
    const path = join(dir, 'app', 'secret.key');
    assert.deepEqual(first.secretKeyOrigin, { source: 'generated', path, created: true });
    assert.equal(readFileSync(path, 'utf8'), first.secretKey);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.ok(Buffer.from(first.secretKey, 'base64url').length >= 32);
    const second = loadConfig({ BOKA_DATA_DIR: dataDir });
    assert.equal(second.secretKey, first.secretKey);
    assert.deepEqual(second.secretKeyOrigin, { source: 'generated', path, created: false });
  });

  it('in memory: a random key per process, nothing written', () => {
    const a = loadConfig({ BOKA_DATA_DIR: 'memory' });
    const b = loadConfig({ BOKA_DATA_DIR: 'memory' });
    assert.deepEqual(a.secretKeyOrigin, { source: 'ephemeral' });
    assert.notEqual(a.secretKey, b.secretKey);
  });
});
