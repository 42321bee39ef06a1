import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../config/config.js';
import { acquireDataDirLock, openDatabase, readMigrationStatus } from '../db/index.js';
import { createBackup, listBackups, restoreBackup, verifyBackup } from '../ops/backup/backup.service.js';

const USAGE = [
  'usage: boka db migrate | boka db status',
  '       boka db backup [--dir DIR] [--verify]',
  '       boka db restore <file> --yes',
  '       boka db backups [--dir DIR] [--max-age-hours N]   (exit 1 when no backup is younger than N hours)',
].join('\n');

/**
 * `boka db migrate` applies pending migrations; `boka db status` prints current/latest;
 * `backup`, `restore` and `backups` are documented in docs/operations.md.
 */
export async function run(argv: string[]): Promise<number> {
  const [sub] = argv;
  const config = loadConfig();
  if (sub === 'backup' || sub === 'restore' || sub === 'backups') {
    const { values, positionals } = parseArgs({
      args: argv.slice(1),
      allowPositionals: true,
      options: {
        dir: { type: 'string', default: config.ops.backupDir },
        verify: { type: 'boolean', default: false },
        yes: { type: 'boolean', default: false },
        'max-age-hours': { type: 'string', default: '24' },
      },
    });
    // The backup service opens the embedded directory itself: hold its lock for the whole
    // command, so a running server is never copied mid-write nor replaced under its feet.
    const lock = sub !== 'backups' && !config.databaseUrl && config.dataDir !== 'memory' ? acquireDataDirLock(config.dataDir) : null;
    try {
      return await runBackupCommand(sub, config, values, positionals);
    } finally {
      lock?.release();
    }
  }
  if (sub === 'migrate') {
    const db = await openDatabase(config, { migrate: true });
    const status = await readMigrationStatus(db, { dir: config.migrationsDir });
    await db.close();
    console.log(`database at migration ${status.current} (latest ${status.latest})`);
    return 0;
  }
  if (sub === 'status') {
    const db = await openDatabase(config, { migrate: false });
    const status = await readMigrationStatus(db, { dir: config.migrationsDir }).catch(() => ({ current: 0, latest: -1 }));
    await db.close();
    console.log(JSON.stringify(status));
    return status.current === status.latest ? 0 : 1;
  }
  console.error(USAGE);
  return 2;
}

async function runBackupCommand(
  sub: 'backup' | 'restore' | 'backups',
  config: Config,
  values: { dir: string; verify: boolean; yes: boolean; 'max-age-hours': string },
  positionals: string[],
): Promise<number> {
  if (sub === 'backup') {
    const result = await createBackup(config, values.dir);
    console.log(`backup written: ${result.file}`);
    if (!values.verify) return 0;
    const check = await verifyBackup(config, result.file);
    if (check.mismatched.length > 0) {
      console.error(`verification FAILED: row counts differ in ${check.mismatched.join(', ')}`);
      return 1;
    }
    console.log(`verified: restored into a scratch database, ${Object.keys(check.rowCounts).length} tables, row counts match`);
    return 0;
  }
  if (sub === 'restore') {
    const [file] = positionals;
    if (!file) {
      console.error(USAGE);
      return 2;
    }
    if (!values.yes) {
      console.error('restore replaces the current database contents; run again with --yes');
      return 2;
    }
    const result = await restoreBackup(config, file);
    console.log(`restored ${file}${result.movedAside ? ` (previous data moved to ${result.movedAside})` : ''}`);
    return 0;
  }
  const maxAge = Number(values['max-age-hours']);
  const listing = listBackups(values.dir, Date.now(), maxAge);
  for (const f of listing.files) console.log(f);
  if (!listing.recent) console.error(`no backup younger than ${maxAge} h in ${values.dir}`);
  return listing.recent ? 0 : 1;
}
