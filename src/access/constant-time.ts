import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares two secrets in constant time (ASVS 2.9 / 3.2): both are hashed first so neither the
 * content nor the length of the expected value shows in the response time.
 */
export function secretsEqual(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Constant-time comparison of two digests of equal algorithm. */
export function digestsEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
