/**
 * Pure passkey rules (W3C WebAuthn Level 2): no I/O, no clock, no randomness of their own.
 */

/** What a server-side challenge was issued for; a challenge serves only its own purpose. */
export type ChallengePurpose = 'registration' | 'authentication' | 'second_factor' | 'reauthentication';

/** A challenge lives this long: the ceremony timeout the browser is given, and no longer. */
export const CHALLENGE_TTL_MS = 5 * 60_000;
/** Passkey registration needs a session opened this recently (ASVS 4.0.3 3.7.1, see ADR 0016). */
export const REGISTRATION_MAX_SESSION_AGE_MS = 10 * 60_000;
/** Bounded work per request: allow/exclude lists never grow past this. */
export const MAX_PASSKEYS_PER_USER = 20;
/** A challenge string in clientDataJSON is base64url of 32 bytes (43 chars); anything longer is not ours. */
const MAX_CHALLENGE_LENGTH = 128;

/**
 * W3C WebAuthn L2 §6.1.1 / §7.2 step 21: when either the stored or the received signature
 * counter is non-zero, the received one must be greater; otherwise the authenticator may have
 * been cloned. Both zero means the authenticator keeps no counter (most synced passkeys).
 */
export function judgeCounter(stored: number, received: number): 'ok' | 'regressed' {
  if (stored === 0 && received === 0) return 'ok';
  return received > stored ? 'ok' : 'regressed';
}

/**
 * The challenge the authenticator signed, read from base64url clientDataJSON; null when the
 * data is not a JSON object with a plausible challenge string. The signature over it is checked
 * later by the WebAuthn library: this only finds which stored challenge to check against.
 */
export function readClientChallenge(clientDataJSON: string): string | null {
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (typeof data !== 'object' || data === null) return null;
  const challenge = (data as { challenge?: unknown }).challenge;
  return typeof challenge === 'string' && challenge.length > 0 && challenge.length <= MAX_CHALLENGE_LENGTH && /^[A-Za-z0-9_-]+$/.test(challenge)
    ? challenge
    : null;
}

/** Whether a session is fresh enough to add a sign-in method without re-authenticating. */
export function isRecentSession(sessionCreatedAt: number, now: number, maxAgeMs = REGISTRATION_MAX_SESSION_AGE_MS): boolean {
  return now - sessionCreatedAt <= maxAgeMs;
}

/**
 * The WebAuthn user handle (§14.6.1: opaque, at most 64 bytes, no personal data): the 16 bytes
 * of the user's UUID.
 */
export function userHandleOf(userId: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.from(userId.replace(/-/g, ''), 'hex'));
}

/** Attestation formats accepted at registration: no certificate chain to validate or fetch. */
export function isAcceptedAttestation(fmt: string, hasCertificateChain: boolean): boolean {
  if (fmt === 'none') return true;
  // Packed self attestation (§8.2) carries no x5c; a chain would make the library fetch the
  // CRLs its certificates name (a request to an address the client chose).
  return fmt === 'packed' && !hasCertificateChain;
}
