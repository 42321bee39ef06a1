import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { backupFileName, diffRowCounts, hasRecentBackup, newestBackup, parseBackupFileName } from '../../src/ops/backup/backup.core.js';
import { createBackup, listBackups, restoreBackup, verifyBackup } from '../../src/ops/backup/backup.service.js';
import { createTestApp, createTenant, signUp, type TestContext } from '../helpers/app.js';
import { onServer } from '../helpers/database.js';

const PG_TOOLS_MISSING = spawnSync('pg_dump', ['--version']).error ? 'pg_dump is not installed (Debian postgresql-client)' : false;

// Migration 004 creates the deep health probe's user and its two tenants in every database.
const PROBE_USERS = 1;
const PROBE_TENANTS = 2;

describe('backup names (pure)', () => {
  it('names carry version and UTC time, and parse back', () => {
    const at = new Date('2026-03-04T05:06:07.890Z');
    const name = backupFileName('1.2.3-rc/1', at, 'pg');
    assert.equal(name, 'boka-1.2.3-rc_1-20260304T050607Z.pgdump');
    assert.deepEqual(parseBackupFileName(name), { file: name, version: '1.2.3-rc_1', createdAt: new Date('2026-03-04T05:06:07Z'), kind: 'pg' });
    assert.equal(parseBackupFileName('notes.txt'), null);
    assert.equal(parseBackupFileName(`${name}.json`), null);
  });

  it('the preflight rule: a backup younger than N hours exists', () => {
    const now = Date.parse('2026-03-04T12:00:00Z');
    const old = backupFileName('1', new Date(now - 30 * 3_600_000), 'pg');
    const fresh = backupFileName('1', new Date(now - 2 * 3_600_000), 'pglite');
    assert.equal(newestBackup([old, fresh, 'x'])?.file, fresh);
    assert.equal(hasRecentBackup([old], now, 24), false);
    assert.equal(hasRecentBackup([old, fresh], now, 24), true);
    assert.equal(hasRecentBackup([], now, 24), false);
    assert.deepEqual(diffRowCounts({ a: 1, b: 2 }, { a: 1, b: 3, c: 0 }), ['b', 'c']);
  });
});

describe('backup and restore on the server', { skip: !onServer ? 'needs DATABASE_URL (pg_dump/pg_restore against a server)' : PG_TOOLS_MISSING }, () => {
  let ctx: TestContext;
  let dir: string;
  before(async () => {
    ctx = await createTestApp();
    dir = mkdtempSync(join(tmpdir(), 'boka-backup-'));
  });
  after(async () => {
    await ctx?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('backs up, verifies in a scratch database, and restores all-or-nothing', async () => {
    const owner = await signUp(ctx.app, 'owner');
    await createTenant(ctx.app, owner);
    const config = loadConfig({ BOKA_SECRET_KEY: ctx.config.secretKey!, BOKA_VERSION: '7.7.7' }, { databaseUrl: ctx.database.url });
    const backup = await createBackup(config, dir);
    assert.match(backup.file, /boka-7\.7\.7-\d{8}T\d{6}Z\.pgdump$/);
    assert.equal(backup.rowCounts.users, 1 + PROBE_USERS);
    assert.equal(backup.rowCounts.tenants, 1 + PROBE_TENANTS);
    const verified = await verifyBackup(config, backup.file);
    assert.deepEqual(verified.mismatched, []);
    assert.deepEqual(verified.rowCounts, backup.rowCounts);
    assert.equal(listBackups(dir, Date.now(), 1).recent, true);

    // Data written after the backup disappears on restore; the backup's data is back.
    await signUp(ctx.app, 'later');
    await restoreBackup(config, backup.file);
    const users = await ctx.database.db.query<{ n: number }>('SELECT count(*)::int AS n FROM users');
    assert.equal(users.rows[0]?.n, 1 + PROBE_USERS);
  });
});

describe('backup and restore of the embedded database', () => {
  let dir: string;
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('dumps the PGlite data directory, verifies it, and restores it (moving the old data aside)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'boka-pglite-'));
    const dataDir = join(dir, 'data');
    const config = loadConfig({ BOKA_DATA_DIR: dataDir, BOKA_VERSION: '8.8.8' }, { databaseUrl: undefined });
    const { openDatabase } = await import('../../src/db/index.js');
    const db = await openDatabase(config);
    await db.query(`INSERT INTO users (id, email, email_normalized, name, password_hash) VALUES (gen_random_uuid(), 'a@x.test', 'a@x.test', 'a', 'h')`);
    await db.close();
    const backup = await createBackup(config, join(dir, 'backups'));
    assert.match(backup.file, /\.pglite\.tar\.gz$/);
    assert.equal(backup.rowCounts.users, 1 + PROBE_USERS);
    assert.deepEqual((await verifyBackup(config, backup.file)).mismatched, []);
    const result = await restoreBackup(config, backup.file);
    assert.ok(result.movedAside && readdirSync(result.movedAside).length > 0, 'the previous data was not kept');
    const reopened = await openDatabase(config, { migrate: false });
    const n = await reopened.query<{ n: number }>('SELECT count(*)::int AS n FROM users');
    await reopened.close();
    assert.equal(n.rows[0]?.n, 1 + PROBE_USERS);
  });
});
