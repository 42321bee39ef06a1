import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { AppError } from '../errors/index.js';
import type { EventHub, RequestMeta } from '../shared/events.js';
import { LOCKOUT, retryAfterSeconds } from './rate-limit.core.js';
import type { LimiterStore } from './limiter-store.js';

/** What is being guessed: a password, a second factor, a reset token, a refresh token. */
export type AttemptScope = 'login' | 'mfa' | 'reset' | 'refresh' | 'password';

export interface Attempt {
  readonly scope: AttemptScope;
  /** The account under attack: normalised email or user id. Null when unknown (a bad token). */
  readonly account: string | null;
  readonly userId?: string | null;
  readonly meta: RequestMeta;
}

export interface AttemptTicket {
  /** The credential was right: clears the consecutive-failure run and gives the points back. */
  succeeded(): Promise<void>;
}

/**
 * Brute-force guard for credential checks. Every attempt reserves a point *before* the
 * credential is verified (so parallel guesses cannot slip past the limit) and gets it back on
 * success. Refusals are 429 `quota_exceeded` with Retry-After, identical whether or not the
 * account exists. If the shared store is unreachable, attempts fail closed with 503.
 */
export interface AttemptGuard {
  /** Reserves the attempt or throws 429/503. Call before verifying the credential. */
  begin(attempt: Attempt): Promise<AttemptTicket>;
  /** Clears an account's lock and counters (after a successful password reset). */
  clear(scope: AttemptScope, account: string): Promise<void>;
}

export function createAttemptGuard(store: LimiterStore, opts: { events: EventHub; failuresPerIp: number }): AttemptGuard {
  const consecutive = store.create('consec', LOCKOUT.consecutiveFailures, LOCKOUT.consecutiveWindowSeconds, LOCKOUT.lockSeconds);
  const hourly = store.create('hourly', LOCKOUT.hourlyFailures, 3600);
  const perIp = store.create('ip', opts.failuresPerIp, LOCKOUT.ipWindowSeconds);

  async function take(limiter: RateLimiterAbstract, key: string, attempt: Attempt, scope: 'account' | 'ip' | 'mfa'): Promise<void> {
    try {
      await limiter.consume(key);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) {
        opts.events.emit('auth.locked', { userId: attempt.userId ?? null, scope, meta: attempt.meta });
        throw new AppError('quota_exceeded', 'Too many attempts; try again later', undefined, {
          headers: { 'retry-after': retryAfterSeconds(rejection.msBeforeNext) },
        });
      }
      throw new AppError('service_unavailable', 'Sign-in is temporarily unavailable', undefined, {
        cause: rejection,
        headers: { 'retry-after': '5' },
      });
    }
  }

  return {
    async begin(attempt: Attempt): Promise<AttemptTicket> {
      const accountKey = attempt.account ? `${attempt.scope}:${attempt.account}` : null;
      const ip = attempt.meta.ip;
      if (ip) await take(perIp, ip, attempt, 'ip');
      if (accountKey) {
        // The lock first: attempts refused while locked do not eat into the hourly budget.
        await take(consecutive, accountKey, attempt, attempt.scope === 'mfa' ? 'mfa' : 'account');
        await take(hourly, accountKey, attempt, attempt.scope === 'mfa' ? 'mfa' : 'account');
      }
      return {
        async succeeded() {
          // Best effort: a store error here must not turn a valid sign-in into a failure.
          await Promise.allSettled([
            ip ? perIp.reward(ip) : null,
            accountKey ? hourly.reward(accountKey) : null,
            accountKey ? consecutive.delete(accountKey) : null,
          ]);
        },
      };
    },

    async clear(scope: AttemptScope, account: string): Promise<void> {
      await Promise.allSettled([consecutive.delete(`${scope}:${account}`), hourly.delete(`${scope}:${account}`)]);
    },
  };
}
