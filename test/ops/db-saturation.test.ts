import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Database } from '../../src/db/index.js';
import { createPostgresDatabase } from '../../src/db/postgres.js';
import { toAppError } from '../../src/http/error-handler.js';
import { classifyDbError } from '../../src/ops/instrumented-database.js';
import { createTestDatabase, onServer, type TestDatabase } from '../helpers/database.js';

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
