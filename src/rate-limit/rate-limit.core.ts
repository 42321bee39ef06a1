/**
 * Brute-force rules (ASVS 2.2.1): five consecutive failures lock that account's password login
 * for 15 minutes, and no account may see more than 100 failed attempts per hour whatever the
 * lock timing. Per client IP, failed attempts are capped per 15-minute window (configurable).
 */
export const LOCKOUT = {
  consecutiveFailures: 5,
  lockSeconds: 15 * 60,
  /** How long a run of failures is remembered without a success. */
  consecutiveWindowSeconds: 24 * 3600,
  hourlyFailures: 100,
  ipWindowSeconds: 15 * 60,
} as const;

export const API_WINDOW_SECONDS = 60;

/**
 * Size of the per-key counter when the general per-principal limit is off: above the largest
 * `rateLimitPerMinute` a key may be given (src/api-keys/api-keys.core.ts KEY_RATE_LIMIT_CAP), so
 * the key's own limit, not the counter, is what refuses.
 */
export const KEY_LIMIT_COUNTER_POINTS = 1_000_000;

export interface LimitState {
  readonly limit: number;
  readonly remaining: number;
  readonly resetMs: number;
}

/**
 * RateLimit-* response fields (draft-ietf-httpapi-ratelimit-headers-07 §4: RateLimit-Limit,
 * -Remaining, -Reset in delta seconds, and RateLimit-Policy `<limit>;w=<window>`).
 */
export function rateLimitHeaders(s: LimitState, windowSeconds: number): Record<string, string> {
  return {
    'ratelimit-limit': String(s.limit),
    'ratelimit-remaining': String(Math.max(0, s.remaining)),
    'ratelimit-reset': String(Math.max(0, Math.ceil(s.resetMs / 1000))),
    'ratelimit-policy': `${s.limit};w=${windowSeconds}`,
  };
}

/** Retry-After in whole seconds (RFC 9110 §10.2.3), never 0 so clients always back off. */
export function retryAfterSeconds(msBeforeNext: number): string {
  return String(Math.max(1, Math.ceil(msBeforeNext / 1000)));
}
