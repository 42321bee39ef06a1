import { randomUUID } from 'node:crypto';
import type { Database, Queryable } from '../db/index.js';
import type { Clock } from '../shared/clock.js';
import { DEFAULT_RETRY, describeJobError, planRetry, type RetryPolicy } from './jobs.core.js';
import * as repo from './jobs.repo.js';

export type JobHandler = (payload: unknown, ctx: { jobId: string; attempt: number }) => Promise<void>;

export interface EnqueueOptions {
  /** Epoch milliseconds; default now. */
  runAt?: number;
  /** At most one live (queued or running) job per key. */
  singletonKey?: string;
}

export interface JobQueueOptions {
  db: Database;
  clock: Clock;
  /** Names this instance in `locked_by` (the instance registry id). */
  instanceId: string;
  /** Milliseconds between polls; 0 disables the worker loop (jobs are still enqueued). */
  pollMs: number;
  /** Jobs claimed per tick (bounded work per tick). */
  batchSize: number;
  /** How long a claim lasts before another instance may take the job over. */
  leaseMs: number;
  onError?: (msg: string, err: unknown, extra?: Record<string, unknown>) => void;
}

export interface JobQueue {
  /** Registers the handler of `name`; only registered names are claimed by this instance. */
  register(name: string, handler: JobHandler, policy?: Partial<RetryPolicy>): void;
  /** Enqueues a job (in `tx` when given, so it commits with the change that caused it). */
  enqueue(name: string, payload: unknown, opts?: EnqueueOptions, tx?: Queryable): Promise<string | null>;
  /** Runs `name` every `everyMs` across the instance group (one live row, singleton key). */
  schedule(name: string, everyMs: number): void;
  /**
   * Runs the named jobs now if they are still queued (claimed like a poll would, so a worker
   * that took one first keeps it). For the outbox: a change commits its jobs, then runs them at
   * once; whatever fails or never gets here (a crash) stays for the worker. Never throws.
   */
  dispatch(ids: readonly string[]): Promise<void>;
  /** One tick: claims at most `batchSize` due jobs and runs them. Returns how many ran. */
  runDue(): Promise<number>;
  start(): Promise<void>;
  /** Stops the loop and waits for the running tick; leaves no timer behind. */
  stop(): Promise<void>;
}

/**
 * A durable queue on the `jobs` table (ADR 0022): the same SQL on PGlite and PostgreSQL.
 * Exactly once per instance group while instances live (claims are row-locked with SKIP
 * LOCKED and fenced by attempt number); a job whose instance died mid-run is retried once its
 * lease lapses, so handlers must tolerate a rare second run (at-least-once after a crash).
 */
export function createJobQueue(opts: JobQueueOptions): JobQueue {
  const handlers = new Map<string, { handler: JobHandler; policy: RetryPolicy }>();
  const recurring = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = true;

  async function enqueue(name: string, payload: unknown, o: EnqueueOptions = {}, tx?: Queryable): Promise<string | null> {
    const policy = handlers.get(name)?.policy ?? DEFAULT_RETRY;
    const id = randomUUID();
    const now = opts.clock.now();
    const inserted = await repo.insertJob(tx ?? opts.db, {
      id, name, payload, runAt: new Date(o.runAt ?? now), maxAttempts: policy.maxAttempts,
      singletonKey: o.singletonKey ?? null, createdAt: new Date(now),
    });
    return inserted ? id : null;
  }

  async function runOne(job: repo.JobRow): Promise<void> {
    const entry = handlers.get(job.name);
    if (!entry) return;
    const fence = { id: job.id, instance: opts.instanceId, attempts: job.attempts };
    try {
      await entry.handler(job.payload, { jobId: job.id, attempt: job.attempts });
      await opts.db.transaction(async (tx) => {
        await repo.finishJob(tx, { ...fence, status: 'done', error: null, now: new Date(opts.clock.now()) });
        await scheduleNext(tx, job);
      });
    } catch (err) {
      const now = opts.clock.now();
      const error = describeJobError(err);
      const plan = planRetry({ ...entry.policy, maxAttempts: job.maxAttempts }, job.attempts, now);
      opts.onError?.('job attempt failed', err, { job: { id: job.id, name: job.name, attempt: job.attempts, willRetry: plan.retry } });
      await opts.db.transaction(async (tx) => {
        if (plan.retry) await repo.rescheduleJob(tx, { ...fence, runAt: new Date(plan.runAt), error });
        else {
          await repo.finishJob(tx, { ...fence, status: 'failed', error, now: new Date(now) });
          await scheduleNext(tx, job);
        }
      });
    }
  }

  async function scheduleNext(tx: Queryable, job: repo.JobRow): Promise<void> {
    const every = recurring.get(job.name);
    if (every === undefined || job.singletonKey !== recurringKey(job.name)) return;
    await enqueue(job.name, {}, { runAt: opts.clock.now() + every, singletonKey: recurringKey(job.name) }, tx);
  }

  async function runDue(): Promise<number> {
    if (handlers.size === 0) return 0;
    const now = opts.clock.now();
    const jobs = await opts.db.transaction((tx) => repo.claimDueJobs(tx, {
      instance: opts.instanceId, now: new Date(now), leaseUntil: new Date(now + opts.leaseMs), limit: opts.batchSize, names: [...handlers.keys()],
    }));
    for (const job of jobs) await runOne(job);
    return jobs.length;
  }

  async function dispatch(ids: readonly string[]): Promise<void> {
    if (ids.length === 0 || handlers.size === 0) return;
    try {
      const now = opts.clock.now();
      const jobs = await opts.db.transaction((tx) => repo.claimJobsById(tx, {
        ids, instance: opts.instanceId, leaseUntil: new Date(now + opts.leaseMs), names: [...handlers.keys()],
      }));
      for (const job of jobs) await runOne(job);
    } catch (err) {
      opts.onError?.('job dispatch failed', err);
    }
  }

  function loop(): void {
    timer = setTimeout(() => {
      timer = undefined;
      running = runDue()
        .catch((err: unknown) => opts.onError?.('job tick failed', err))
        .finally(() => {
          running = undefined;
          if (!stopped) loop();
        });
    }, opts.pollMs);
  }

  return {
    register(name, handler, policy) {
      handlers.set(name, { handler, policy: { ...DEFAULT_RETRY, ...policy } });
    },
    enqueue,
    schedule(name, everyMs) {
      recurring.set(name, everyMs);
    },
    dispatch,
    runDue,
    async start() {
      for (const [name] of recurring) {
        await enqueue(name, {}, { singletonKey: recurringKey(name) });
      }
      if (opts.pollMs <= 0 || !stopped) return;
      stopped = false;
      loop();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}

function recurringKey(name: string): string {
  return `recurring:${name}`;
}
