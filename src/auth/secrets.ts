import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isCanonicalUuid } from '../shared/ids.js';

/** A base64url secret of `bytes` random bytes (default 32 = 256 bits, ASVS 2.9.2 / 3.2.2). */
export function generateSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * SHA-256 of a high-entropy secret. Adequate for random tokens (not for passwords, which use
 * argon2id): there is nothing to brute-force in 2^256.
 */
export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/** Constant-time comparison of two digests (ASVS 2.9 / 3.2). */
export function digestsEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Splits `<prefix>_<id>.<secret>` style tokens; returns null on any malformed input. The id must
 * be the canonical lower-case 8-4-4-4-12 UUID we issued: any other spelling (upper case, moved
 * hyphens, 36 hyphens) would either name the same row under a second cache key (a revoked key
 * outliving its revocation) or reach the database as an invalid uuid (a 500).
 */
export function splitToken(token: string, prefix: string): { id: string; secret: string } | null {
  if (!token.startsWith(prefix)) return null;
  const rest = token.slice(prefix.length);
  const dot = rest.indexOf('.');
  if (dot <= 0 || dot === rest.length - 1) return null;
  const id = rest.slice(0, dot);
  const secret = rest.slice(dot + 1);
  if (!isCanonicalUuid(id) || !/^[A-Za-z0-9_-]{16,128}$/.test(secret)) return null;
  return { id, secret };
}

/** AES-256-GCM envelope for secrets kept at rest (signing keys): `v1.<iv>.<tag>.<ciphertext>`. */
export function encryptAtRest(plaintext: string, key: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.subarray(0, 32), iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
}

export function decryptAtRest(envelope: string, key: Buffer): string {
  const [version, iv, tag, body] = envelope.split('.');
  if (version !== 'v1' || !iv || !tag || !body) throw new Error('unknown secret envelope format');
  const decipher = createDecipheriv('aes-256-gcm', key.subarray(0, 32), Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}
