import { randomUUID } from 'node:crypto';
import { digestsEqual, generateSecret, hashSecret, splitToken } from './secrets.js';

/**
 * `<prefix><uuid>.<secret>` tokens: refresh tokens, password resets, MFA challenges,
 * invitations and API keys. The id names a row; only the SHA-256 of the 256-bit secret is
 * stored, so a database leak yields no usable token (ASVS 2.9.2, 3.5.2).
 */
export function issueToken(prefix: string): { id: string; token: string; secretHash: Buffer } {
  const id = randomUUID();
  const secret = generateSecret();
  return { id, token: `${prefix}${id}.${secret}`, secretHash: hashSecret(secret) };
}

/**
 * The row a token names, if the token is well formed and its secret matches the stored hash
 * (constant-time compare); null for anything else, so every failure answers alike. Expiry and
 * single use are the caller's rules.
 */
export async function findByToken<R>(
  token: string,
  prefix: string,
  find: (id: string) => Promise<R | null>,
  storedHash: (row: R) => Uint8Array,
): Promise<R | null> {
  const parts = splitToken(token, prefix);
  if (!parts) return null;
  const row = await find(parts.id);
  return row && digestsEqual(Buffer.from(storedHash(row)), hashSecret(parts.secret)) ? row : null;
}
