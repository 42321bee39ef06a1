import type { Queryable } from '../db/index.js';

export interface JobRow {
  id: string;
  name: string;
  payload: unknown;
  attempts: number;
  maxAttempts: number;
  singletonKey: string | null;
}

export interface NewJob {
  id: string;
  name: string;
  payload: unknown;
  runAt: Date;
  maxAttempts: number;
  singletonKey: string | null;
  createdAt: Date;
}

/** Inserts a job; a singleton whose live row exists already is skipped (returns false). */
export async function insertJob(tx: Queryable, job: NewJob): Promise<boolean> {
  const res = await tx.query(
    `INSERT INTO jobs (id, name, payload, run_at, max_attempts, singleton_key, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (singleton_key) WHERE status IN ('queued', 'running') DO NOTHING`,
    [job.id, job.name, JSON.stringify(job.payload ?? {}), job.runAt, job.maxAttempts, job.singletonKey, job.createdAt],
  );
  return res.rowCount === 1;
}

/**
 * Claims up to `limit` due jobs for `instance`: queued ones whose time has come, and running ones
 * whose lease lapsed (their instance died). SKIP LOCKED lets instances claim side by side without
 * waiting on or double-claiming each other's rows.
 */
export async function claimDueJobs(tx: Queryable, q: { instance: string; now: Date; leaseUntil: Date; limit: number; names: readonly string[] }): Promise<JobRow[]> {
  const res = await tx.query<JobRow>(
    `UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_until = $3, locked_by = $1
      WHERE id IN (
        SELECT id FROM jobs
         WHERE ((status = 'queued' AND run_at <= $2) OR (status = 'running' AND lease_until <= $2))
           AND name = ANY($5::text[])
         ORDER BY run_at
         LIMIT $4
         FOR UPDATE SKIP LOCKED)
      RETURNING id, name, payload, attempts, max_attempts AS "maxAttempts", singleton_key AS "singletonKey"`,
    [q.instance, q.now, q.leaseUntil, q.limit, q.names],
  );
  return res.rows;
}

/** Claims the given queued jobs now, whatever their `run_at` (the outbox's run-after-commit). */
export async function claimJobsById(tx: Queryable, q: { ids: readonly string[]; instance: string; leaseUntil: Date; names: readonly string[] }): Promise<JobRow[]> {
  const res = await tx.query<JobRow>(
    `UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_until = $3, locked_by = $2
      WHERE id IN (
        SELECT id FROM jobs WHERE id = ANY($1::uuid[]) AND status = 'queued' AND name = ANY($4::text[])
         FOR UPDATE SKIP LOCKED)
      RETURNING id, name, payload, attempts, max_attempts AS "maxAttempts", singleton_key AS "singletonKey"`,
    [q.ids, q.instance, q.leaseUntil, q.names],
  );
  return res.rows;
}

/** Ends a claimed job; fenced by (instance, attempts) so a lapsed claim cannot finish it. */
export async function finishJob(tx: Queryable, q: { id: string; instance: string; attempts: number; status: 'done' | 'failed'; error: string | null; now: Date }): Promise<boolean> {
  const res = await tx.query(
    `UPDATE jobs SET status = $4, last_error = $5, finished_at = $6, lease_until = NULL
      WHERE id = $1 AND locked_by = $2 AND attempts = $3 AND status = 'running'`,
    [q.id, q.instance, q.attempts, q.status, q.error, q.now],
  );
  return res.rowCount === 1;
}

/** Puts a failed attempt back in the queue for `runAt`; fenced like finishJob. */
export async function rescheduleJob(tx: Queryable, q: { id: string; instance: string; attempts: number; runAt: Date; error: string }): Promise<boolean> {
  const res = await tx.query(
    `UPDATE jobs SET status = 'queued', run_at = $4, last_error = $5, lease_until = NULL, locked_by = NULL
      WHERE id = $1 AND locked_by = $2 AND attempts = $3 AND status = 'running'`,
    [q.id, q.instance, q.attempts, q.runAt, q.error],
  );
  return res.rowCount === 1;
}

/** Runs the bounded purge of expired credentials and records (migration 014). */
export async function purgeExpired(tx: Queryable, at: Date, batch: number): Promise<Record<string, number>> {
  const res = await tx.query<{ kind: string; purged: number }>('SELECT kind, purged FROM boka_purge_expired($1, $2)', [at, batch]);
  return Object.fromEntries(res.rows.map((r) => [r.kind, Number(r.purged)]));
}
