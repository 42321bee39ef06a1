import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  formatMigrationPlan,
  migrateForStart,
  MIGRATIONS_DIR,
  readMigrationStatus,
  readSchemaVersion,
  runMigrations,
  SchemaNotReadyError,
  type Database,
} from '../../src/db/index.js';
import { createPostgresDatabase } from '../../src/db/postgres.js';
import { startInstanceRegistration, type InstanceRegistration } from '../../src/ops/instance-registry.service.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

/** The newest shipped migration (applied by createTestDatabase); the fixtures come after it. */
const LATEST = Math.max(...readdirSync(MIGRATIONS_DIR).map((f) => Number(/^(\d+)\.do\./.exec(f)?.[1] ?? 0)));
const v = (n: number) => LATEST + n;
const file = (n: number, title: string) => `${String(v(n)).padStart(3, '0')}.do.${title}.sql`;
const ADD = file(1, 'add-legacy-note');
const DROP = file(2, 'drop-legacy-note');
const AFTER = file(3, 'add-after');
const DROP_AFTER = file(4, 'drop-after');

/**
 * The shipped migrations plus a release's worth of fixtures: +1 adds a column (expand), +2 drops
 * it (contract), +3 adds a table (expand).
 */
function fixtureDir(withTail: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'boka-migrations-'));
  cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  writeFileSync(join(dir, ADD), '-- phase: expand\nALTER TABLE tenants ADD COLUMN legacy_note text;\n');
  writeFileSync(join(dir, DROP), '-- phase: contract\nALTER TABLE tenants DROP COLUMN legacy_note;\n');
  if (withTail) writeFileSync(join(dir, AFTER), '-- phase: expand\nCREATE TABLE fixture_after (id integer PRIMARY KEY);\n');
  return dir;
}
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The owner (migration) role's handle on the test database. */
async function ownerOf(database: TestDatabase): Promise<{ owner: Database; release: () => Promise<void> }> {
  if (database.url) {
    const owner = createPostgresDatabase({ url: database.url, max: 1, asOwner: true, preparedStatements: false });
    return { owner, release: () => owner.close() };
  }
  await database.db.query('RESET ROLE');
  return { owner: database.db, release: async () => void (await database.db.query('SET ROLE boka_app')) };
}

describe('contract migrations and the instance registry', () => {
  let database: TestDatabase;
  const dirs: string[] = [];
  let older: InstanceRegistration | undefined;
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await older?.stop().catch(() => {});
    await database.drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('an instance never applies a contract migration at start, and refuses to start when it needs what lies behind one', async () => {
    const dir = fixtureDir(true);
    dirs.push(dir);
    const { owner, release } = await ownerOf(database);
    try {
      await assert.rejects(migrateForStart(owner, dir), (err: unknown) => {
        assert.ok(err instanceof SchemaNotReadyError);
        assert.match(err.message, new RegExp(`${escape(DROP)} \\(contract\\) is pending`));
        assert.match(err.message, new RegExp(escape(AFTER)));
        return true;
      });
      assert.equal(await readSchemaVersion(owner), LATEST, 'nothing applied');
      // Without the expand migration behind it, the contract is simply left pending: the instance starts.
      const shortDir = fixtureDir(false);
      dirs.push(shortDir);
      const started = await migrateForStart(owner, shortDir);
      assert.deepEqual(started.applied, [ADD]);
      assert.equal(started.version, v(1));
      // Readiness and `boka db status` compare with the newest expand migration: 008 pending is fine.
      assert.deepEqual(await readMigrationStatus(owner, shortDir), { current: v(1), latest: v(2), required: v(1) });
    } finally {
      await release();
    }
  });

  test('boka db migrate refuses the contract while an older build is alive, names it, and --force overrides', async () => {
    const dir = dirs[0]!;
    // An instance of the previous release (its build ships up to the newest shipped migration) is serving.
    older = await startInstanceRegistration(database.db, { version: '0.9.0', schemaLevel: LATEST, heartbeatSeconds: 3600, staleAfterBeats: 3, host: 'blue-1', onError: () => {} });
    const { owner, release } = await ownerOf(database);
    try {
      const planned = await runMigrations(owner, { phase: 'all', force: false, dryRun: true, dir });
      assert.deepEqual(planned.plan.steps.map((s) => `${s.migration.version}:${s.migration.phase}:${s.action}`), [`${v(2)}:contract:refuse`, `${v(3)}:expand:hold`]);
      assert.deepEqual(planned.applied, []);
      const text = formatMigrationPlan(planned.plan).join('\n');
      assert.match(text, new RegExp(`refused: ${escape(DROP)} .*\\n  instance ${older.id} \\(version 0\\.9\\.0, schema level ${LATEST}, host blue-1`));

      const refused = await runMigrations(owner, { phase: 'all', force: false, dryRun: false, dir });
      assert.equal(refused.plan.complete, false);
      assert.deepEqual(refused.applied, []);
      assert.equal(await readSchemaVersion(owner), v(1));

      // The pre-rollout step applies expand migrations only and reports the expand stuck behind the contract.
      const expandOnly = await runMigrations(owner, { phase: 'expand', force: false, dryRun: false, dir });
      assert.deepEqual(expandOnly.plan.steps.map((s) => s.action), ['hold', 'hold']);
      assert.equal(expandOnly.plan.complete, false);

      const forced = await runMigrations(owner, { phase: 'all', force: true, dryRun: false, dir });
      assert.deepEqual(forced.applied, [DROP, AFTER]);
      assert.match(formatMigrationPlan(forced.plan).join('\n'), /WARNING: applied with --force/);
      assert.equal(await readSchemaVersion(owner), v(3));
    } finally {
      await release();
    }
  });

  test('once the older instance deregisters, the contract applies', async () => {
    const dir = fixtureDir(false);
    dirs.push(dir);
    writeFileSync(join(dir, DROP_AFTER), '-- phase: contract\nDROP TABLE fixture_after;\n');
    writeFileSync(join(dir, AFTER), '-- phase: expand\nCREATE TABLE fixture_after (id integer PRIMARY KEY);\n');
    const { owner, release } = await ownerOf(database);
    try {
      const blocked = await runMigrations(owner, { phase: 'all', force: false, dryRun: false, dir });
      assert.deepEqual(blocked.plan.steps.map((s) => s.action), ['refuse']);
      await older?.stop();
      older = undefined;
      const done = await runMigrations(owner, { phase: 'all', force: false, dryRun: false, dir });
      assert.deepEqual(done.applied, [DROP_AFTER]);
      assert.equal(done.plan.complete, true);
    } finally {
      await release();
    }
  });
});
