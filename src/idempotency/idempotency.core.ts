import { createHash } from 'node:crypto';

/**
 * Pure rules of the Idempotency-Key header (draft-ietf-httpapi-idempotency-key-header-06, with
 * Stripe's behaviour where the draft leaves a choice). No I/O, no clock: `now` is passed in.
 */

/** 1–255 visible ASCII characters (%x21–7E), the draft's sf-string minus spaces and quotes' ambiguity. */
const KEY_RE = /^[\x21-\x7e]{1,255}$/;

export type KeyParse = { kind: 'absent' } | { kind: 'valid'; key: string } | { kind: 'invalid' };

/** The header value as sent; a repeated header (an array) is invalid rather than guessed at. */
export function parseIdempotencyKey(value: string | string[] | undefined): KeyParse {
  if (value === undefined) return { kind: 'absent' };
  if (typeof value !== 'string' || !KEY_RE.test(value)) return { kind: 'invalid' };
  return { kind: 'valid', key: value };
}

/** JSON with object keys sorted at every depth, so `{a,b}` and `{b,a}` are one request. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** SHA-256 of method, path (query excluded) and canonical body: what "the same request" means. */
export function requestFingerprint(method: string, path: string, body: unknown): Buffer {
  return createHash('sha256').update(`${method.toUpperCase()}\n${path}\n${canonicalJson(body ?? null)}`).digest();
}

/**
 * Which answers are kept for replay: 2xx and the 4xx that the same request would get again
 * (validation, not found, unprocessable). Never 5xx, and never answers that depend on the
 * moment rather than the request: 401/403 (credentials change), 408, 409 (a conflict with
 * other state; the retry should be judged afresh), 425, 429 (quota).
 */
export function isReplayable(status: number): boolean {
  if (status >= 200 && status < 300) return true;
  return status >= 400 && status < 500 && ![401, 403, 408, 409, 425, 429].includes(status);
}

export interface StoredKey {
  fingerprint: Buffer;
  status: 'in_progress' | 'completed';
  responseStatus: number | null;
  responseBody: string | null;
  lockedUntil: number;
  expiresAt: number;
}

export type Decision =
  | { kind: 'replay'; status: number; body: string }
  | { kind: 'reused' }
  | { kind: 'in_progress' }
  /** The row is gone or expired between the claim and the read: try the claim again. */
  | { kind: 'retry' };

/** What to answer when the key already exists and this request did not claim it. */
export function decideExisting(row: StoredKey | null, fingerprint: Buffer, now: number): Decision {
  if (!row || row.expiresAt <= now) return { kind: 'retry' };
  if (!row.fingerprint.equals(fingerprint)) return { kind: 'reused' };
  if (row.status === 'completed' && row.responseStatus !== null && row.responseBody !== null) {
    return { kind: 'replay', status: row.responseStatus, body: row.responseBody };
  }
  if (row.lockedUntil <= now) return { kind: 'retry' };
  return { kind: 'in_progress' };
}
