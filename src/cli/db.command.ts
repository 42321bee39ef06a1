import { parseArgs } from 'node:util';
import { loadConfig, type Config } from '../config/config.js';
import { acquireDataDirLock, formatMigrationPlan, openDatabase, openOwnerDatabase, readMigrationStatus, runMigrations } from '../db/index.js';
import { createBackup, listBackups, restoreBackup, verifyBackup } from '../ops/backup/backup.service.js';

const USAGE = [
  'usage: boka db migrate [--plan | --dry-run] [--phase expand | all] [--force]',
  '       boka db status',
  '       boka db backup [--dir DIR] [--verify]',
  '       boka db restore <file> --yes',
  '       boka db backups [--dir DIR] [--max-age-hours N]   (exit 1 when no backup is younger than N hours)',
].join('\n');

/**
 * `boka db migrate` applies pending migrations, refusing a `contract` one while an instance whose
 * build predates it is alive (ADR 0010); `--plan`/`--dry-run` only prints the plan (exit 0);
 * `--phase expand` is the pre-rollout step. `boka db status` prints current/latest/required;
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
  if (sub === 'migrate') return runMigrateCommand(config, argv.slice(1));
  if (sub === 'status') {
    const db = await openDatabase(config, { migrate: false });
    const status = await readMigrationStatus(db, config.migrationsDir).catch(() => null);
    await db.close();
    console.log(JSON.stringify(status ?? { current: 0, latest: -1, required: -1 }));
    // Pending contract migrations alone are normal between releases: up to date means `required`.
    return status && status.current >= status.required ? 0 : 1;
  }
  console.error(USAGE);
  return 2;
}

async function runMigrateCommand(config: Config, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      plan: { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      phase: { type: 'string', default: 'all' },
      force: { type: 'boolean', default: false },
    },
  });
  if (values.phase !== 'expand' && values.phase !== 'all') {
    console.error(USAGE);
    return 2;
  }
  const dryRun = values.plan || values['dry-run'];
  // The embedded database takes its data-directory lock itself: a running server makes this fail.
  const owner = await openOwnerDatabase(config);
  try {
    const { plan, applied } = await runMigrations(owner, { phase: values.phase, force: values.force, dryRun, dir: config.migrationsDir });
    const lines = formatMigrationPlan(plan).join('\n');
    if (plan.complete) console.log(lines);
    else console.error(lines);
    if (dryRun) {
      // The same check `npm test` runs, so an operator sees a destructive expand migration before
      // applying it. Imported here: the parser's WebAssembly is loaded by --plan only.
      const { lintMigration } = await import('../db/migration-lint.js');
      for (const step of plan.steps.filter((st) => st.migration.phase === 'expand')) {
        for (const f of await lintMigration(step.migration.sql, 'expand')) console.error(`check: ${step.migration.name}:${f.line}: ${f.message}`);
      }
      return 0;
    }
    const status = await readMigrationStatus(owner, config.migrationsDir);
    console.log(`applied ${applied.length === 0 ? 'nothing' : applied.join(', ')}; database at migration ${status.current} (latest ${status.latest})`);
    return plan.complete ? 0 : 1;
  } finally {
    await owner.close();
  }
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
