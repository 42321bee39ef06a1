import { createHash } from 'node:crypto';
import { isCanonicalUuid } from './ids.js';

/**
 * Splits a `<prefix><id>.<secret>` token (API keys, refresh tokens, manage links, feed URLs…);
 * null on any malformed input, before any database read. The id must be the canonical lower-case
 * UUID we issued: any other spelling would either name the same row under a second cache key (a
 * revoked key outliving its revocation) or reach the database as an invalid uuid (a 500). The
 * secret is base64url, of exactly `secretLength` characters when given, else 16–128.
 */
export function splitPrefixedToken(token: string, prefix: string, secretLength?: number): { id: string; secret: string } | null {
  if (!token.startsWith(prefix)) return null;
  const rest = token.slice(prefix.length);
  const dot = rest.indexOf('.');
  if (dot <= 0 || dot === rest.length - 1) return null;
  const id = rest.slice(0, dot);
  const secret = rest.slice(dot + 1);
  const shape = secretLength === undefined ? /^[A-Za-z0-9_-]{16,128}$/ : new RegExp(`^[A-Za-z0-9_-]{${secretLength}}$`);
  if (!isCanonicalUuid(id) || !shape.test(secret)) return null;
  return { id, secret };
}

/**
 * SHA-256 of a high-entropy secret. Adequate for random tokens (not for passwords, which use
 * argon2id): there is nothing to brute-force in 2^256.
 */
export function hashTokenSecret(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}
