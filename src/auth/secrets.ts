import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from 'node:crypto';
import { hashTokenSecret, splitPrefixedToken } from '../shared/prefixed-token.js';

/** A base64url secret of `bytes` random bytes (default 32 = 256 bits, ASVS 2.9.2 / 3.2.2). */
export function generateSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** SHA-256 of a high-entropy secret (src/shared/prefixed-token.ts). */
export const hashSecret = hashTokenSecret;

/** Constant-time comparison of two digests (ASVS 2.9 / 3.2). */
export function digestsEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `<prefix><id>.<secret>` tokens, canonical ids only (src/shared/prefixed-token.ts). */
export function splitToken(token: string, prefix: string): { id: string; secret: string } | null {
  return splitPrefixedToken(token, prefix);
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
