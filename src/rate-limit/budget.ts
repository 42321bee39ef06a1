import { RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from '../errors/index.js';
import type { LimiterStore } from './limiter-store.js';

/** A named budget of `points` per `durationSeconds` per key; `consume` answers 429 when spent. */
export interface Budget {
  consume(key: string): Promise<void>;
}

const retryAfter = (ms: number) => String(Math.max(1, Math.ceil(ms / 1000)));

/**
 * A budget in the shared store (Redis when configured). When the store fails, the same rule is
 * kept per instance rather than dropped (fail closed on missing signals). `points` 0 disables.
 */
export function createBudget(store: LimiterStore, name: string, points: number, durationSeconds: number, message = 'Too many invitations; try again later'): Budget {
  if (points <= 0) return { consume: async () => {} };
  const shared = store.create(name, points, durationSeconds);
  const local = store.kind === 'memory' ? shared : store.createLocal(name, points, durationSeconds);
  const reject = (res: RateLimiterRes) =>
    new AppError('quota_exceeded', message, { budget: name }, { headers: { 'retry-after': retryAfter(res.msBeforeNext) } });
  return {
    async consume(key) {
      try {
        await shared.consume(key);
      } catch (err) {
        if (err instanceof RateLimiterRes) throw reject(err);
        try {
          await local.consume(key);
        } catch (localErr) {
          if (localErr instanceof RateLimiterRes) throw reject(localErr);
          throw localErr;
        }
      }
    },
  };
}
