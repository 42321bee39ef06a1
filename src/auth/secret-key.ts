import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Config } from '../config/config.js';

/**
 * The key that encrypts signing keys at rest. BOKA_SECRET_KEY when set (required with
 * DATABASE_URL); otherwise, for the embedded database, a key generated once into the data
 * directory with mode 0600; for an in-memory database, a fresh random key.
 */
export function resolveSecretKey(config: Pick<Config, 'secretKey' | 'dataDir' | 'databaseUrl'>): Buffer {
  if (config.secretKey) return Buffer.from(config.secretKey, 'base64url');
  if (config.databaseUrl) throw new Error('BOKA_SECRET_KEY is required with DATABASE_URL');
  if (config.dataDir === 'memory') return randomBytes(32);
  mkdirSync(config.dataDir, { recursive: true });
  const file = join(config.dataDir, '..', 'secret.key');
  if (!existsSync(file)) {
    writeFileSync(file, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
  }
  chmodSync(file, 0o600);
  return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url');
}
