import argon2 from 'argon2';
import { randomBytes } from 'node:crypto';

/**
 * argon2id with the OWASP Password Storage Cheat Sheet's first recommended configuration
 * (m = 19 MiB, t = 2, p = 1); ASVS 2.4.1. The native binding hashes on libuv's thread pool,
 * off the event loop.
 */
const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** ASVS 2.1.1 (at least 12 characters) and 2.1.2 (at most 128 characters allowed). */
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, ARGON2_OPTIONS);
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

/**
 * A hash of a random password, computed once. Logins for unknown emails verify against it so
 * that they cost the same as a wrong password (no user enumeration by timing, ASVS 2.2 / 3.2).
 */
export function createDummyHash(): Promise<string> {
  return hashPassword(randomBytes(16).toString('hex'));
}
