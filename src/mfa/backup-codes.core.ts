import { createHash } from 'node:crypto';

const BACKUP_CODE_COUNT = 10;
/** 14 random bytes = 112 bits per code, the entropy ASVS 2.6.2 asks of look-up secrets. */
const BACKUP_CODE_BYTES = 14;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'; // RFC 4648 base32

function toBase32(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** Ten codes shown once, grouped for reading: `ABCD-EFGH-…` (23 base32 characters). */
export function generateBackupCodes(random: (bytes: number) => Buffer, count = BACKUP_CODE_COUNT): string[] {
  return Array.from({ length: count }, () => toBase32(random(BACKUP_CODE_BYTES)).match(/.{1,4}/g)!.join('-'));
}

/** Case, spaces and dashes do not matter when a code is typed back. */
function normalizeBackupCode(input: string): string {
  return input.toUpperCase().replace(/[^A-Z2-7]/g, '');
}

export function looksLikeBackupCode(input: string): boolean {
  return normalizeBackupCode(input).length === Math.ceil((BACKUP_CODE_BYTES * 8) / 5);
}

/** SHA-256 of the normalised code: with 112 bits of entropy a fast hash is enough (ASVS 2.6.2). */
export function hashBackupCode(code: string): Buffer {
  return createHash('sha256').update(normalizeBackupCode(code)).digest();
}
