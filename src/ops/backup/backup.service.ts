import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { btree_gist } from '@electric-sql/pglite/contrib/btree_gist';
import pg from 'pg';
import type { Config } from '../../config/config.js';
import { backupFileName, diffRowCounts, hasRecentBackup, parseBackupFileName } from './backup.core.js';
import { beginSnapshot, countRows, createDatabase, dropDatabase, endSnapshot, exportSnapshot, type Query, type RowCounts } from './backup.repo.js';

type BackupConfig = Pick<Config, 'databaseUrl' | 'dataDir' | 'version'>;

export interface BackupResult {
  file: string;
  rowCounts: RowCounts;
}

/** Runs a PostgreSQL client tool (Debian: postgresql-client); rejects with its stderr. */
function run(command: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('error', (err) => reject(new Error(`${command} could not start (${err.message}); install postgresql-client`)));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}: ${stderr.trim().slice(0, 2000)}`))));
  });
}

async function withPgClient<T>(url: string, fn: (q: Query) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn((sql) => client.query(sql));
  } finally {
    await client.end();
  }
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

function writeManifest(file: string, manifest: object): void {
  writeFileSync(`${file}.json`, `${JSON.stringify(manifest, null, 2)}\n`);
}

/**
 * Writes a backup into `dir`: `pg_dump -Fc` for a server, PGlite's data-dir dump for the
 * embedded database. A `<file>.json` manifest records version, time and row counts.
 * The embedded database must not be open in another process while it is copied.
 */
export async function createBackup(config: BackupConfig, dir: string, now: Date = new Date()): Promise<BackupResult> {
  mkdirSync(dir, { recursive: true });
  if (config.databaseUrl) {
    const file = join(dir, backupFileName(config.version, now, 'pg'));
    // Count rows and dump from one exported snapshot, so the manifest matches the dump exactly
    // even while the application keeps writing.
    const url = config.databaseUrl;
    const rowCounts = await withPgClient(url, async (q) => {
      await beginSnapshot(q);
      try {
        const snapshot = await exportSnapshot(q);
        const counts = await countRows(q);
        await run('pg_dump', ['--format=custom', '--no-owner', `--snapshot=${snapshot}`, `--file=${file}`, url]);
        return counts;
      } finally {
        await endSnapshot(q);
      }
    });
    writeManifest(file, { kind: 'pg', version: config.version, createdAt: now.toISOString(), rowCounts });
    return { file, rowCounts };
  }
  if (config.dataDir === 'memory') throw new Error('an in-memory database cannot be backed up; set BOKA_DATA_DIR');
  const file = join(dir, backupFileName(config.version, now, 'pglite'));
  const db = await PGlite.create({ dataDir: config.dataDir, extensions: { btree_gist } });
  try {
    const rowCounts = await countRows((sql) => db.query(sql));
    const dump = await db.dumpDataDir('gzip');
    writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
    writeManifest(file, { kind: 'pglite', version: config.version, createdAt: now.toISOString(), rowCounts });
    return { file, rowCounts };
  } finally {
    await db.close();
  }
}

/**
 * Restores `file` into a scratch database and compares every table's row count with the
 * manifest written at backup time. Returns the tables that differ (empty = verified).
 */
export async function verifyBackup(config: BackupConfig, file: string): Promise<{ mismatched: string[]; rowCounts: RowCounts }> {
  const manifest = JSON.parse(readFileSync(`${file}.json`, 'utf8')) as { rowCounts: RowCounts };
  const kind = parseBackupFileName(basename(file))?.kind;
  let restored: RowCounts;
  if (kind === 'pg') {
    if (!config.databaseUrl) throw new Error('verifying a pg_dump backup needs DATABASE_URL (a server to restore into)');
    const scratch = `boka_verify_${randomBytes(6).toString('hex')}`;
    await withPgClient(config.databaseUrl, (q) => createDatabase(q, scratch));
    try {
      await run('pg_restore', ['--no-owner', '--exit-on-error', `--dbname=${withDatabase(config.databaseUrl, scratch)}`, file]);
      restored = await withPgClient(withDatabase(config.databaseUrl, scratch), countRows);
    } finally {
      await withPgClient(config.databaseUrl, (q) => dropDatabase(q, scratch));
    }
  } else if (kind === 'pglite') {
    const db = await PGlite.create({ loadDataDir: new Blob([readFileSync(file)]), extensions: { btree_gist } });
    try {
      restored = await countRows((sql) => db.query(sql));
    } finally {
      await db.close();
    }
  } else {
    throw new Error(`not a Boka backup file name: ${basename(file)}`);
  }
  return { mismatched: diffRowCounts(manifest.rowCounts, restored), rowCounts: restored };
}

/**
 * Replaces the configured database's contents with `file`. On a server this runs
 * `pg_restore --clean --single-transaction`: all or nothing. For the embedded database the
 * current data directory is moved aside (never deleted) before the dump is loaded.
 */
export async function restoreBackup(config: BackupConfig, file: string): Promise<{ movedAside?: string }> {
  const kind = parseBackupFileName(basename(file))?.kind;
  if (kind === 'pg') {
    if (!config.databaseUrl) throw new Error('this is a server backup; set DATABASE_URL to the database to restore into');
    await run('pg_restore', ['--clean', '--if-exists', '--no-owner', '--single-transaction', '--exit-on-error', `--dbname=${config.databaseUrl}`, file]);
    return {};
  }
  if (kind !== 'pglite') throw new Error(`not a Boka backup file name: ${basename(file)}`);
  if (config.databaseUrl) throw new Error('this is an embedded-database backup; unset DATABASE_URL to restore it into BOKA_DATA_DIR');
  if (config.dataDir === 'memory') throw new Error('set BOKA_DATA_DIR to the directory to restore into');
  let movedAside: string | undefined;
  if (existsSync(config.dataDir) && readdirSync(config.dataDir).length > 0) {
    movedAside = `${config.dataDir}.before-restore-${Date.now()}`;
    renameSync(config.dataDir, movedAside);
  }
  const db = await PGlite.create({ dataDir: config.dataDir, loadDataDir: new Blob([readFileSync(file)]), extensions: { btree_gist } });
  await db.close();
  return movedAside ? { movedAside } : {};
}

/** Backups in `dir`, newest first, and whether one is younger than `maxAgeHours`. */
export function listBackups(dir: string, now: number, maxAgeHours: number): { files: string[]; recent: boolean } {
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => parseBackupFileName(f) !== null) : [];
  files.sort((x, y) => parseBackupFileName(y)!.createdAt.getTime() - parseBackupFileName(x)!.createdAt.getTime());
  return { files, recent: hasRecentBackup(files, now, maxAgeHours) };
}
