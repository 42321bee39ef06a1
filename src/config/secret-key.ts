import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** Where the key that encrypts signing keys at rest came from (the startup log names it). */
export type SecretKeyOrigin =
  | { readonly source: 'BOKA_SECRET_KEY' | 'BOKA_SECRET_KEY_FILE' }
  | { readonly source: 'generated'; readonly path: string; readonly created: boolean }
  | { readonly source: 'ephemeral' };

/** The file the embedded database's generated key lives in: next to the data directory. */
export function secretKeyPath(dataDir: string): string {
  return resolve(join(dataDir, '..', 'secret.key'));
}

/**
 * For the embedded database without BOKA_SECRET_KEY: the key generated once into
 * `<dataDir>/../secret.key` (mode 0600, created exclusively so two first starts cannot write
 * different keys); for an in-memory database, a fresh random key.
 */
export function generateSecretKey(dataDir: string): { key: string; origin: SecretKeyOrigin } {
  if (dataDir === 'memory') return { key: randomBytes(32).toString('base64url'), origin: { source: 'ephemeral' } };
  const path = secretKeyPath(dataDir);
  mkdirSync(dirname(path), { recursive: true });
  let created = false;
  try {
    writeFileSync(path, randomBytes(32).toString('base64url'), { mode: 0o600, flag: 'wx' });
    created = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  chmodSync(path, 0o600);
  return { key: readFileSync(path, 'utf8').trim(), origin: { source: 'generated', path, created } };
}
