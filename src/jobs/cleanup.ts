import type { Database } from '../db/index.js';
import type { Clock } from '../shared/clock.js';
import { purgeExpired } from './jobs.repo.js';
import type { JobQueue } from './queue.js';

export const CLEANUP_JOB = 'cleanup.expired';

/**
 * Registers the recurring cleanup job (ADR 0022): expired sessions (with their refresh tokens),
 * used or expired one-time tokens and challenges, expired invitations and idempotency keys,
 * lapsed guest holds, old finished jobs. At most `batch` rows per kind per run, so one run is
 * bounded work; a backlog drains over the following runs.
 */
export function registerCleanupJob(queue: JobQueue, opts: { db: Database; clock: Clock; everyMs: number; batch: number; onPurged?: (counts: Record<string, number>) => void }): void {
  queue.register(CLEANUP_JOB, async () => {
    const counts = await opts.db.transaction((tx) => purgeExpired(tx, new Date(opts.clock.now()), opts.batch));
    opts.onPurged?.(counts);
  }, { maxAttempts: 1 });
  queue.schedule(CLEANUP_JOB, opts.everyMs);
}
