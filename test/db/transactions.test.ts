import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { openDatabase, type Database, type Queryable } from '../../src/db/index.js';
import { createTestDatabase, onServer, type TestDatabase } from '../helpers/database.js';

const readScope = (tx: Queryable) =>
  tx.query<{ t: string | null }>(`SELECT current_setting('app.tenant_id', true) AS t`).then((r) => r.rows[0]!.t || null);

/**
 * `Database.transaction` on both adapters (in-memory PGlite, or PostgreSQL when DATABASE_URL is
 * set): read-only transactions (ADR 0007), rollback, and the RLS scope never outliving its
 * transaction.
 */
describe('transactions', () => {
  let t: TestDatabase;
  let db: Database;
  before(async () => {
    // 60 concurrent transactions on a 10-connection pool: the last may wait past the 2 s default.
    t = await createTestDatabase({ databasePoolWaitMs: 60_000 });
    db = t.db;
  });
  after(() => t.drop());

  test('a read-only transaction refuses writes (SQLSTATE 25006) and a write transaction keeps them', async () => {
    const tenantId = randomUUID();
    const insert = (tx: Queryable) =>
      tx.query(`INSERT INTO tenants (id, name, slug) VALUES ($1, 'ro', $2)`, [tenantId, `ro-${tenantId.slice(0, 8)}`]);
    await assert.rejects(
      db.transaction(insert, { 'app.tenant_id': tenantId }, { readOnly: true }),
      (err: { code?: string }) => err.code === '25006',
    );
    const count = (tx: Queryable) => tx.query(`SELECT id FROM tenants WHERE id = $1`, [tenantId]).then((r) => r.rows.length);
    assert.equal(await db.transaction(count, { 'app.tenant_id': tenantId }, { readOnly: true }), 0);
    await db.transaction(insert, { 'app.tenant_id': tenantId });
    assert.equal(await db.transaction(count, { 'app.tenant_id': tenantId }, { readOnly: true }), 1);
  });

  test('the first statement failing rolls the transaction back, and so does an error before any statement', async () => {
    const tenantId = randomUUID();
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.query('SELECT no_such_column FROM tenants');
      }, { 'app.tenant_id': tenantId }),
      /no_such_column/,
    );
    await assert.rejects(
      db.transaction(async () => {
        throw new Error('refused before any statement');
      }, { 'app.tenant_id': tenantId }, { readOnly: true }),
      /refused before any statement/,
    );
    // Nothing is left open: the next statements run outside any transaction or scope.
    assert.equal(await readScope(db), null);
    assert.equal(await db.transaction(async () => 'no statement'), 'no statement');
    assert.equal(await db.transaction(async () => 'no statement', { 'app.tenant_id': tenantId }, { readOnly: true }), 'no statement');
  });

  test('concurrent transactions each see only their own scope', async () => {
    const scopes = Array.from({ length: 60 }, () => randomUUID());
    const seen = await Promise.all(
      scopes.map((tenantId, i) =>
        db.transaction(
          async (tx) => [await readScope(tx), await readScope(tx)],
          { 'app.tenant_id': tenantId },
          { readOnly: i % 2 === 0 },
        ),
      ),
    );
    seen.forEach(([first, second], i) => assert.deepEqual([first, second], [scopes[i], scopes[i]]));
    assert.equal(await readScope(db), null);
  });
});

describe('transactions on one pooled PostgreSQL connection', { skip: !onServer && 'needs DATABASE_URL' }, () => {
  let t: TestDatabase;
  let one: Database;
  before(async () => {
    t = await createTestDatabase();
    // DATABASE_POOL_WAIT_MS past the 2 s default, for the last test.
    one = await openDatabase({ databaseUrl: t.url, dataDir: 'memory', databasePoolMax: 1, databasePoolWaitMs: 5_000 }, { migrate: false });
  });
  after(async () => {
    await one.close();
    await t.drop();
  });

  test('a refused scope fails before a connection is checked out, so none leaks', async () => {
    for (let i = 0; i < 3; i += 1) {
      await assert.rejects(one.transaction(readScope, { 'app.tenant_id': 'not-a-uuid' }), /scope/);
    }
    // With the only connection leaked, this would wait for the pool's connect timeout and fail.
    assert.equal(await one.transaction(readScope), null);
  });

  test("a read-only transaction and its scope end before the connection's next use", async () => {
    for (let i = 0; i < 20; i += 1) {
      const tenantId = randomUUID();
      // Started together: all three queue for the one connection.
      const [inside, nextTx, nextQuery] = await Promise.all([
        one.transaction(readScope, { 'app.tenant_id': tenantId }, { readOnly: true }),
        one.transaction(readScope),
        readScope(one),
      ]);
      assert.deepEqual([inside, nextTx, nextQuery], [tenantId, null, null]);
    }
    const status = await one.query<{ transaction_read_only: string }>('SHOW transaction_read_only');
    assert.equal(status.rows[0]!.transaction_read_only, 'off', 'no read-only transaction is left open');
  });

  test('a checkout waits for the busy connection as long as DATABASE_POOL_WAIT_MS says', async () => {
    let release!: () => void;
    const held = one.transaction(() => new Promise<void>((resolve) => (release = resolve)));
    // Queued behind the transaction: the pool is full (one connection, checked out above).
    const waiting = one.query<{ ok: number }>('SELECT 1 AS ok');
    setTimeout(() => release(), 2_500);
    assert.equal((await waiting).rows[0]!.ok, 1, 'with the 2 s default this wait would end in pool_wait');
    await held;
  });
});
