/** Retry policy of one job name: exponential backoff `baseMs · 2^(attempt-1)`, capped. */
export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = Object.freeze({ maxAttempts: 8, backoffBaseMs: 30_000, backoffMaxMs: 3_600_000 });

/** Delay before the attempt after `attempt` (1-based) failed; pure, so tests pin it exactly. */
export function computeBackoffMs(policy: RetryPolicy, attempt: number): number {
  const exp = Math.min(Math.max(attempt - 1, 0), 30);
  return Math.min(policy.backoffBaseMs * 2 ** exp, policy.backoffMaxMs);
}

/** What to do with a job whose attempt `attempt` failed: retry at `now + delay`, or give up. */
export function planRetry(policy: RetryPolicy, attempt: number, now: number): { retry: true; runAt: number } | { retry: false } {
  if (attempt >= policy.maxAttempts) return { retry: false };
  return { retry: true, runAt: now + computeBackoffMs(policy, attempt) };
}

/** A short, secret-free error note for the job row: the error's name and first line only. */
export function describeJobError(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : 'non-error thrown';
  return (text.split('\n')[0] ?? '').slice(0, 300);
}
