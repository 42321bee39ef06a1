import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Database } from '../../src/db/index.js';
import { createPostgresDatabase } from '../../src/db/postgres.js';
import { toAppError } from '../../src/http/error-handler.js';
import { classifyDbError } from '../../src/ops/instrumented-database.js';
import { createTestApp, uniqueEmail, TEST_PASSWORD } from '../helpers/app.js';
import { createTestDatabase, onServer, type TestDatabase } from '../helpers/database.js';
import { captureLogLines } from '../helpers/doubles.js';

/**
 * A saturated pool is not a lost server: both answer 503 `database_error`, but the metric kind
 * (`pool_wait` vs `connection`) and `Retry-After` tell an operator which one it is.
 */
describe('database saturation vs outage', { skip: !onServer && 'needs DATABASE_URL' }, () => {
  let t: TestDatabase;
  let one: Database;
  before(async () => {
    t = await createTestDatabase();
    one = createPostgresDatabase({ url: t.url!, max: 1, connectTimeoutMs: 200 });
    await fillPool(one, 1);
  });
  after(async () => {
    await one.close();
    await t.drop();
  });

  it('waiting for the only, busy pooled connection times out as pool_wait, 503 with Retry-After: 1', async () => {
    let finish!: () => void;
    const held = one.transaction(() => new Promise<void>((resolve) => (finish = resolve)));
    try {
      const err = await one.query('SELECT 1').then(
        () => assert.fail('the query got a connection the transaction holds'),
        (e: unknown) => e,
      );
      assert.equal(classifyDbError(err), 'pool_wait');
      const answer = toAppError(err);
      assert.deepEqual([answer.status, answer.code, answer.headers?.['retry-after']], [503, 'database_error', '1']);
    } finally {
      finish();
      await held;
    }
    assert.equal((await one.query<{ ok: number }>('SELECT 1 AS ok')).rows[0]!.ok, 1, 'the pool serves again once the connection is free');
  });

  it('in the app, a request refused for a full pool logs one warning without a stack, not an error', async () => {
    const { lines, stream } = captureLogLines();
    const ctx = await createTestApp({ env: { LOG_LEVEL: 'info', DATABASE_POOL_WAIT_MS: '100' }, deps: { logStream: stream } });
    const releases: Array<() => void> = [];
    const held: Array<Promise<void>> = [];
    try {
      // The test pool has 10 connections: open them (the short wait also bounds opening one), then hold them all.
      await fillPool(ctx.database.db, 10);
      for (let i = 0; i < 10; i += 1) held.push(ctx.database.db.transaction(() => new Promise<void>((resolve) => releases.push(resolve))));
      await waitForHeld(releases, 10);
      const res = await ctx.app.inject({ method: 'POST', url: '/api/auth/signup', payload: { email: uniqueEmail('busy'), password: TEST_PASSWORD, name: 'busy' } });
      const body = res.json<{ code: string; message: string }>();
      assert.deepEqual([res.statusCode, body.code, body.message, res.headers['retry-after']], [503, 'database_error', 'The database is busy', '1']);
      const ours = lines.filter((l) => l.reqId === res.headers['x-request-id']);
      const busy = ours.filter((l) => l.msg === 'database busy: no pooled connection came free in time');
      assert.equal(busy.length, 1, JSON.stringify(ours));
      assert.deepEqual([busy[0]!.level, busy[0]!.dbError, busy[0]!.err], [40, 'pool_wait', undefined]);
      assert.deepEqual(ours.filter((l) => (l.level as number) >= 50), [], 'no error-level line for overload');
    } finally {
      for (const release of releases) release();
      await Promise.all(held);
      await ctx.close();
    }
  });

  it('a server that refuses connections is a connection error, 503 with Retry-After: 5', async () => {
    const url = new URL(t.url!);
    url.port = '1'; // nothing listens there
    const lost = createPostgresDatabase({ url: url.toString(), max: 1, connectTimeoutMs: 200 });
    try {
      const err = await lost.query('SELECT 1').then(
        () => assert.fail('connected to a closed port'),
        (e: unknown) => e,
      );
      assert.equal(classifyDbError(err), 'connection');
      const answer = toAppError(err);
      assert.deepEqual([answer.status, answer.code, answer.headers?.['retry-after']], [503, 'database_error', '5']);
    } finally {
      await lost.close();
    }
  });
});

/**
 * Opens `n` pooled connections before a test holds them. The short pool wait under test also
 * bounds opening a connection (pg-pool), which a loaded machine can miss: try again, bounded.
 */
async function fillPool(db: Database, n: number): Promise<void> {
  for (let i = 0; i < 50 && db.poolStats().total < n; i += 1) {
    await Promise.allSettled(Array.from({ length: n }, () => db.transaction(() => new Promise((r) => setTimeout(r, 50)))));
  }
  assert.equal(db.poolStats().total, n, 'every pooled connection is open');
}

/** Transactions start asynchronously: wait until each holds its connection (bounded, not timed). */
async function waitForHeld(releases: ReadonlyArray<unknown>, n: number): Promise<void> {
  for (let i = 0; i < 500 && releases.length < n; i += 1) await new Promise((r) => setTimeout(r, 10));
  assert.equal(releases.length, n, 'every connection is held');
}
