import { Secret, TOTP } from 'otpauth';

/** RFC 6238 defaults that every authenticator app supports: SHA-1, 6 digits, 30-second steps. */
const TOTP_PERIOD_SECONDS = 30;
const TOTP_DIGITS = 6;
/** Accept the previous and next step too (RFC 6238 §5.2 clock drift allowance). */
const WINDOW = 1;

export function createTotp(secretBase32: string, opts: { issuer?: string; label?: string; algorithm?: 'SHA1' | 'SHA256' | 'SHA512'; digits?: number } = {}): TOTP {
  return new TOTP({
    issuer: opts.issuer ?? 'Boka',
    label: opts.label ?? 'Boka',
    algorithm: opts.algorithm ?? 'SHA1',
    digits: opts.digits ?? TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
    secret: Secret.fromBase32(secretBase32),
  });
}

/** A fresh 160-bit shared secret (RFC 4226 §4 recommends 160 bits), base32. */
export function generateTotpSecret(random: (bytes: number) => Buffer): string {
  return new Secret({ buffer: new Uint8Array(random(20)).buffer }).base32;
}

export type TotpCheck = { ok: true; step: number } | { ok: false; reason: 'invalid' | 'replay' };

/**
 * Checks `code` at time `nowMs`. A code is accepted only if its time step is later than
 * `lastStep`, the last step accepted for this user, so each code works once (ASVS 2.8.4).
 */
export function checkTotp(totp: TOTP, code: string, nowMs: number, lastStep: number): TotpCheck {
  if (!/^\d{6,8}$/.test(code)) return { ok: false, reason: 'invalid' };
  const delta = totp.validate({ token: code, timestamp: nowMs, window: WINDOW });
  if (delta === null) return { ok: false, reason: 'invalid' };
  const step = Math.floor(nowMs / 1000 / TOTP_PERIOD_SECONDS) + delta;
  if (step <= lastStep) return { ok: false, reason: 'replay' };
  return { ok: true, step };
}
