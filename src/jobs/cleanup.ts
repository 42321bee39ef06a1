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
export function registerCleanupJob(queue: JobQueue, opts: {
  db: Database;
  clock: Clock;
  everyMs: number;
  batch: number;
  onPurged?: (counts: Record<string, number>) => void;
  /**
   * Cancels at most `batch` lapsed guest holds, each in a transaction that also writes its
   * effects (ADR 0024); given by booking, which this floor cannot import. Since migration 017 the
   * purge function leaves reservations alone, so this is the only sweeper of lapsed holds.
   */
  expireHolds?: (at: Date, batch: number) => Promise<number>;
}): void {
  queue.register(CLEANUP_JOB, async () => {
    const at = new Date(opts.clock.now());
    const holds = opts.expireHolds ? await opts.expireHolds(at, opts.batch) : 0;
    const counts = await opts.db.transaction((tx) => purgeExpired(tx, at, opts.batch));
    opts.onPurged?.({ ...counts, lapsed_holds: holds });
  }, { maxAttempts: 1 });
  queue.schedule(CLEANUP_JOB, opts.everyMs);
}
