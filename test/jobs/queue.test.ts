import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openDatabase, type Database } from '../../src/db/index.js';
import { computeBackoffMs, createJobQueue, DEFAULT_RETRY, type JobQueue } from '../../src/jobs/index.js';
import { createTestDatabase, onServer, type TestDatabase } from '../helpers/database.js';
import { createManualClock, waitFor } from '../helpers/doubles.js';

/**
 * ADR 0022: the durable queue on the `jobs` table. Exactly once across an instance group,
 * survives a restart, retries with exponential backoff up to max attempts, bounded batches.
 */
let database: TestDatabase;
let second: Database;

before(async () => {
  database = await createTestDatabase();
  // A second instance has its own pool on the server; PGlite is one process, one connection.
  second = onServer ? await openDatabase({ databaseUrl: database.url, dataDir: 'memory', databasePoolMax: 5 }) : database.db;
});
after(async () => {
  if (second !== database.db) await second.close();
  await database.drop();
});

const queue = (db: Database, over: Partial<Parameters<typeof createJobQueue>[0]> = {}): JobQueue =>
  createJobQueue({ db, clock: { now: () => Date.now() }, instanceId: `i-${Math.random()}`, pollMs: 0, batchSize: 5, leaseMs: 60_000, ...over });

const statusOf = async (id: string) =>
  (await database.db.query<{ status: string; attempts: number; runAt: Date; lastError: string | null }>(
    'SELECT status, attempts, run_at AS "runAt", last_error AS "lastError" FROM jobs WHERE id = $1', [id])).rows[0];

describe('exactly once per instance group', () => {
  test('two instances on one database handle each of N jobs once', async () => {
    const seen = new Map<number, string[]>();
    const make = (db: Database, label: string) => {
      const q = queue(db, { pollMs: 5, batchSize: 3, instanceId: label });
      q.register('count', async (payload) => {
        const n = (payload as { n: number }).n;
        seen.set(n, [...(seen.get(n) ?? []), label]);
      });
      return q;
    };
    const a = make(database.db, 'a');
    const b = make(second, 'b');
    const N = 40;
    for (let n = 0; n < N; n += 1) await a.enqueue('count', { n });
    await Promise.all([a.start(), b.start()]);
    try {
      await waitFor(async () => seen.size === N, 2000);
      // Let both loops poll a few more times: nothing may run twice.
      for (let i = 0; i < 3; i += 1) {
        await a.runDue();
        await b.runDue();
      }
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    assert.equal(seen.size, N);
    for (const [n, by] of seen) assert.equal(by.length, 1, `job ${n} ran ${by.length} times`);
    const left = await database.db.query<{ n: number }>("SELECT count(*)::int AS n FROM jobs WHERE name = 'count' AND status <> 'done'");
    assert.equal(left.rows[0]?.n, 0);
  });

  test('a batch is bounded: one tick claims at most batchSize jobs', async () => {
    const q = queue(database.db, { batchSize: 4 });
    let ran = 0;
    q.register('bounded', async () => void (ran += 1));
    for (let i = 0; i < 10; i += 1) await q.enqueue('bounded', {});
    assert.equal(await q.runDue(), 4);
    assert.equal(ran, 4);
  });
});

test('a job survives a restart: enqueued by one instance, run by the next', async () => {
  const first = queue(database.db);
  first.register('survive', async () => {});
  const id = await first.enqueue('survive', { x: 1 });
  assert.ok(id);
  await first.stop();
  const payloads: unknown[] = [];
  const next = queue(second);
  next.register('survive', async (payload) => void payloads.push(payload));
  assert.equal(await next.runDue(), 1);
  assert.deepEqual(payloads, [{ x: 1 }]);
  assert.equal((await statusOf(id))?.status, 'done');
});

describe('retries', () => {
  test('exponential backoff, then success; not run before its time', async () => {
    const clock = createManualClock(Date.parse('2026-05-01T10:00:00Z'));
    const q = queue(database.db, { clock });
    let calls = 0;
    q.register('flaky', async () => {
      calls += 1;
      if (calls < 3) throw new Error('receiver down');
    }, { backoffBaseMs: 1000, maxAttempts: 5 });
    const id = (await q.enqueue('flaky', {}))!;
    await q.runDue();
    let row = await statusOf(id);
    assert.equal(row?.status, 'queued');
    assert.equal(row?.runAt.getTime(), clock.now() + 1000);
    assert.equal(row?.lastError, 'Error: receiver down');
    assert.equal(await q.runDue(), 0, 'not due yet');
    clock.advance(1000);
    await q.runDue();
    row = await statusOf(id);
    assert.equal(row?.runAt.getTime(), clock.now() + 2000, 'second delay doubles');
    clock.advance(2000);
    await q.runDue();
    row = await statusOf(id);
    assert.equal(row?.status, 'done');
    assert.equal(row?.attempts, 3);
    assert.equal(calls, 3);
  });

  test('gives up after max attempts and records the failure', async () => {
    const clock = createManualClock(Date.parse('2026-05-02T10:00:00Z'));
    const q = queue(database.db, { clock });
    q.register('doomed', async () => {
      throw new Error('always');
    }, { backoffBaseMs: 10, maxAttempts: 2 });
    const id = (await q.enqueue('doomed', {}))!;
    await q.runDue();
    clock.advance(10);
    await q.runDue();
    clock.advance(1_000_000);
    assert.equal(await q.runDue(), 0);
    const row = await statusOf(id);
    assert.equal(row?.status, 'failed');
    assert.equal(row?.attempts, 2);
  });

  test('backoff is capped', () => {
    assert.equal(computeBackoffMs(DEFAULT_RETRY, 1), 30_000);
    assert.equal(computeBackoffMs(DEFAULT_RETRY, 3), 120_000);
    assert.equal(computeBackoffMs(DEFAULT_RETRY, 30), DEFAULT_RETRY.backoffMaxMs);
  });
});

test('a lapsed lease is taken over, and the stale instance cannot complete it', async () => {
  const clock = createManualClock(Date.parse('2026-05-03T10:00:00Z'));
  const slow = queue(database.db, { clock, leaseMs: 1000, instanceId: 'slow' });
  let release!: () => void;
  const blocked = new Promise<void>((r) => (release = r));
  let slowRan = 0;
  slow.register('lease', async () => {
    slowRan += 1;
    await blocked;
  });
  const id = (await slow.enqueue('lease', {}))!;
  const slowTick = slow.runDue();
  await waitFor(async () => slowRan === 1);
  clock.advance(1001);
  const other = queue(second, { clock, instanceId: 'other' });
  let otherRan = 0;
  other.register('lease', async () => void (otherRan += 1));
  assert.equal(await other.runDue(), 1);
  release();
  await slowTick;
  const row = await statusOf(id);
  assert.equal(row?.status, 'done');
  assert.equal(row?.attempts, 2);
  assert.equal(otherRan, 1);
});

test('a stopped worker leaves no loop behind', async () => {
  const q = queue(database.db, { pollMs: 5 });
  let ran = 0;
  q.register('after-stop', async () => void (ran += 1));
  await q.start();
  await q.stop();
  await q.enqueue('after-stop', {});
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(ran, 0);
});

describe('dispatch: the outbox runs its jobs right after the commit (ADR 0024)', () => {
  test('runs the named queued jobs once, even when two instances dispatch and poll them at the same time', async () => {
    const runs = new Map<number, string[]>();
    const make = (db: Database, label: string) => {
      const q = queue(db, { instanceId: label });
      q.register('outbox', async (payload) => {
        const n = (payload as { n: number }).n;
        runs.set(n, [...(runs.get(n) ?? []), label]);
      });
      return q;
    };
    const a = make(database.db, 'dispatch-a');
    const b = make(second, 'dispatch-b');
    // Written in a transaction, like a reservation change writes them; not yet due for a poll.
    const ids = await database.db.transaction(async (tx) => {
      const out: string[] = [];
      for (let n = 0; n < 10; n += 1) out.push((await a.enqueue('outbox', { n }, { runAt: Date.now() + 3_600_000 }, tx))!);
      return out;
    });
    await Promise.all([a.dispatch(ids), b.dispatch(ids), a.dispatch(ids.slice(0, 5)), b.runDue()]);
    await a.dispatch(ids); // again, after they are done: nothing
    assert.equal(runs.size, 10);
    for (const [n, by] of runs) assert.equal(by.length, 1, `job ${n} ran ${by.length} times`);
    for (const id of ids) assert.equal((await statusOf(id))?.status, 'done');
  });

  test('a failing job stays queued for the worker with its backoff, and dispatch never throws', async () => {
    const q = queue(database.db);
    q.register('outbox-fail', async () => {
      throw new Error('smtp down');
    });
    const id = (await q.enqueue('outbox-fail', {}))!;
    await q.dispatch([id]);
    const row = await statusOf(id);
    assert.equal(row?.status, 'queued');
    assert.equal(row?.attempts, 1);
    assert.match(row?.lastError ?? '', /smtp down/);
    assert.ok(row!.runAt.getTime() > Date.now(), 'retried later by a poll, with backoff');
  });
});
