import type { Config } from '../config/config.js';
import type { EventHub } from '../shared/events.js';
import { createAttemptGuard, type AttemptGuard } from './attempt-guard.js';
import { createLimiterStore } from './limiter-store.js';
import { createRateLimitStep } from './rate-limit.step.js';
import type { PipelineStep } from '../access/index.js';

export { installRateLimitHeaders } from './rate-limit.step.js';
export type { AttemptGuard } from './attempt-guard.js';

export interface RateLimits {
  readonly store: 'memory' | 'redis';
  /** Brute-force guard for credential checks (login, MFA, refresh, reset, password change). */
  readonly guard: AttemptGuard;
  /** The per-principal pipeline step. */
  readonly step: PipelineStep;
  close(): Promise<void>;
}

export async function createRateLimits(
  config: Pick<Config, 'redisUrl' | 'rateLimit'>,
  deps: { events: EventHub; onStoreError?: (err: unknown) => void },
): Promise<RateLimits> {
  const store = await createLimiterStore(config, deps.onStoreError);
  return {
    store: store.kind,
    guard: createAttemptGuard(store, { events: deps.events, failuresPerIp: config.rateLimit.authFailuresPerIp }),
    step: createRateLimitStep(store, config),
    close: () => store.close(),
  };
}
