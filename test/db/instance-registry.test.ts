import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { listInstances, readMigrationStatus, type Queryable, type RegisteredInstance } from '../../src/db/index.js';
import { startInstanceRegistration } from '../../src/ops/instance-registry.service.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

/** Runs `fn` as the database owner: the registry's full rows are not readable by boka_app. */
async function asOwner<T>(database: TestDatabase, fn: (q: Queryable) => Promise<T>): Promise<T> {
  if (database.url) {
    const c = new pg.Client({ connectionString: database.url });
    await c.connect();
    try {
      return await fn({ query: async (sql, params) => { const r = await c.query(sql, params as unknown[]); return { rows: r.rows, rowCount: r.rowCount ?? 0 }; } });
    } finally {
      await c.end();
    }
  }
  await database.db.query('RESET ROLE');
  try {
    return await fn(database.db);
  } finally {
    await database.db.query('SET ROLE boka_app');
  }
}

describe('instance registry (migration 006)', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database.drop();
  });

  test('registers with version and schema level, heartbeats, deregisters', async () => {
    const errors: unknown[] = [];
    const level = (await readMigrationStatus(database.db)).latest;
    const reg = await startInstanceRegistration(database.db, {
      version: '9.9.9-test',
      schemaLevel: level,
      heartbeatSeconds: 3600,
      staleAfterBeats: 3,
      host: 'test-host',
      onError: (err) => errors.push(err),
    });
    const first = await asOwner(database, listInstances);
    const row = first.instances.find((i) => i.id === reg.id);
    assert.ok(row, 'registered row');
    assert.equal(row.version, '9.9.9-test');
    assert.equal(row.schemaLevel, level);
    assert.equal(row.host, 'test-host');
    assert.equal(row.staleAfterSeconds, 3 * 3600);

    // A heartbeat moves last_seen_at forward (the database clock, so wait until it has advanced).
    const before = row.lastSeenAt.getTime();
    let after: RegisteredInstance | undefined;
    for (let i = 0; i < 200 && !(after && after.lastSeenAt.getTime() > before); i++) {
      await reg.beat();
      after = (await asOwner(database, listInstances)).instances.find((x) => x.id === reg.id);
    }
    assert.ok(after && after.lastSeenAt.getTime() > before, 'heartbeat advanced last_seen_at');

    // A row deleted behind its back (pruned) comes back at the next beat.
    await asOwner(database, (q) => q.query('DELETE FROM boka_instances WHERE id = $1', [reg.id]));
    await reg.beat();
    assert.ok((await asOwner(database, listInstances)).instances.some((i) => i.id === reg.id), 're-registered');

    await reg.stop();
    assert.equal((await asOwner(database, listInstances)).instances.some((i) => i.id === reg.id), false, 'deregistered');
    await reg.beat();
    assert.equal((await asOwner(database, listInstances)).instances.some((i) => i.id === reg.id), false, 'no beat after stop');
    assert.deepEqual(errors, []);
  });

  test('registering prunes rows dead for a day, keeps recently stale ones', async () => {
    await asOwner(database, async (q) => {
      await q.query(
        `INSERT INTO boka_instances (id, version, schema_level, stale_after_seconds, last_seen_at) VALUES
           ('00000000-0000-4000-8000-00000000d001', 'old', 1, 45, now() - interval '2 days'),
           ('00000000-0000-4000-8000-00000000d002', 'recent', 1, 45, now() - interval '10 minutes')`,
      );
    });
    const reg = await startInstanceRegistration(database.db, { version: 'x', schemaLevel: 6, heartbeatSeconds: 3600, staleAfterBeats: 3, onError: () => {} });
    const ids = (await asOwner(database, listInstances)).instances.map((i) => i.id);
    assert.equal(ids.includes('00000000-0000-4000-8000-00000000d001'), false);
    assert.equal(ids.includes('00000000-0000-4000-8000-00000000d002'), true);
    await reg.stop();
  });

  test('least privilege: boka_app cannot read other instances\' versions and hosts', async () => {
    await assert.rejects(database.db.query('SELECT version, host FROM boka_instances'), /permission denied/);
    await assert.rejects(database.db.query(`UPDATE boka_instances SET version = 'forged'`), /permission denied/);
  });
});
