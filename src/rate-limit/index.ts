import type { Config } from '../config/config.js';
import type { EventHub } from '../shared/events.js';
import { createAttemptGuard, type AttemptGuard } from './attempt-guard.js';
import { createBudget, type Budget } from './budget.js';
import { createLimiterStore } from './limiter-store.js';
import { createAvailabilityBudgetStep } from './availability-budget.step.js';
import { createRateLimitStep } from './rate-limit.step.js';
import type { PipelineStep } from '../access/index.js';

export type { AttemptGuard } from './attempt-guard.js';
export type { Budget } from './budget.js';

export interface RateLimits {
  readonly store: 'memory' | 'redis';
  /** Brute-force guard for credential checks (login, MFA, refresh, reset, password change). */
  readonly guard: AttemptGuard;
  /** The per-principal pipeline step, then the availability budget. */
  readonly step: PipelineStep;
  /** A named budget in the same store (e.g. invitations per inviter per hour); 0 points = unlimited. */
  budget(name: string, points: number, durationSeconds: number, message?: string): Budget;
  close(): Promise<void>;
}

export async function createRateLimits(
  config: Pick<Config, 'redisUrl' | 'rateLimit'>,
  deps: { events: EventHub; onStoreError?: (err: unknown) => void },
): Promise<RateLimits> {
  const store = await createLimiterStore(config, deps.onStoreError);
  const general = createRateLimitStep(store, config);
  const availability = createAvailabilityBudgetStep(store, config);
  return {
    store: store.kind,
    guard: createAttemptGuard(store, { events: deps.events, failuresPerIp: config.rateLimit.authFailuresPerIp }),
    async step(request, auth, policy, reply) {
      await general(request, auth, policy, reply);
      await availability(request, auth, policy, reply);
    },
    budget: (name, points, durationSeconds, message) => createBudget(store, name, points, durationSeconds, message),
    close: () => store.close(),
  };
}
