import { loadConfig, type Config } from '../config/config.js';
import { acquireDataDirLock, formatMigrationPlan, openDatabase, openOwnerDatabase, readMigrationStatus, runMigrations } from '../db/index.js';
import { createBackup, listBackups, restoreBackup, verifyBackup } from '../ops/backup/backup.service.js';

/** One JSON document on stdout (the `--json` contract). */
function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/**
 * `boka db migrate` applies pending migrations, refusing a `contract` one while an instance whose
 * build predates it is alive (ADR 0010); `--plan`/`--dry-run` only prints the plan (exit 0);
 * `--phase expand` is the pre-rollout step.
 */
export async function runMigrate(values: { plan: boolean; 'dry-run': boolean; phase: string; force: boolean; json: boolean }): Promise<number> {
  const config = loadConfig();
  const phase = values.phase === 'expand' ? 'expand' : 'all';
  const dryRun = values.plan || values['dry-run'];
  // The embedded database takes its data-directory lock itself: a running server makes this fail.
  const owner = await openOwnerDatabase(config);
  try {
    const { plan, applied } = await runMigrations(owner, { phase, force: values.force, dryRun, dir: config.migrationsDir });
    const lines = formatMigrationPlan(plan).join('\n');
    if (plan.complete && !values.json) console.log(lines);
    else console.error(lines);
    const steps = plan.steps.map((s) => ({ name: s.migration.name, phase: s.migration.phase, action: s.action, blockers: s.blockers.length }));
    if (dryRun) {
      // The same check `npm test` runs, so an operator sees a destructive expand migration before
      // applying it. Imported here: the parser's WebAssembly is loaded by --plan only.
      const { lintMigration } = await import('../db/migration-lint.js');
      const findings: { migration: string; line: number; message: string }[] = [];
      for (const step of plan.steps.filter((st) => st.migration.phase === 'expand')) {
        for (const f of await lintMigration(step.migration.sql, 'expand')) {
          findings.push({ migration: step.migration.name, line: f.line, message: f.message });
          console.error(`check: ${step.migration.name}:${f.line}: ${f.message}`);
        }
      }
      if (values.json) printJson({ current: plan.current, complete: plan.complete, steps, findings });
      return 0;
    }
    const status = await readMigrationStatus(owner, config.migrationsDir);
    if (values.json) printJson({ applied, complete: plan.complete, steps, ...status });
    else console.log(`applied ${applied.length === 0 ? 'nothing' : applied.join(', ')}; database at migration ${status.current} (latest ${status.latest})`);
    return plan.complete ? 0 : 1;
  } finally {
    await owner.close();
  }
}

/** `boka db status`: current/latest/required as JSON (with or without --json); exit 0 when current >= required. */
export async function runStatus(): Promise<number> {
  const config = loadConfig();
  const db = await openDatabase(config, { migrate: false });
  const status = await readMigrationStatus(db, config.migrationsDir).catch(() => null);
  await db.close();
  printJson(status ?? { current: 0, latest: -1, required: -1 });
  // Pending contract migrations alone are normal between releases: up to date means `required`.
  return status && status.current >= status.required ? 0 : 1;
}

/**
 * The backup service opens the embedded directory itself: hold its lock for the whole command,
 * so a running server is never copied mid-write nor replaced under its feet.
 */
async function withDataDirLock<T>(config: Config, work: () => Promise<T>): Promise<T> {
  const lock = !config.databaseUrl && config.dataDir !== 'memory' ? acquireDataDirLock(config.dataDir) : null;
  try {
    return await work();
  } finally {
    lock?.release();
  }
}

/** `boka db backup [--dir DIR] [--verify]` (docs/operations.md "Backups"). */
export async function runBackup(values: { dir: string | undefined; verify: boolean; json: boolean }): Promise<number> {
  const config = loadConfig();
  return withDataDirLock(config, async () => {
    const result = await createBackup(config, values.dir ?? config.ops.backupDir);
    if (!values.json) console.log(`backup written: ${result.file}`);
    if (!values.verify) {
      if (values.json) printJson({ file: result.file, verified: null });
      return 0;
    }
    const check = await verifyBackup(config, result.file);
    const ok = check.mismatched.length === 0;
    if (values.json) printJson({ file: result.file, verified: ok, tables: Object.keys(check.rowCounts).length, mismatched: check.mismatched });
    if (!ok) {
      console.error(`verification FAILED: row counts differ in ${check.mismatched.join(', ')}`);
      return 1;
    }
    if (!values.json) console.log(`verified: restored into a scratch database, ${Object.keys(check.rowCounts).length} tables, row counts match`);
    return 0;
  });
}

/** `boka db restore <file> --yes`: refuses (exit 2) without --yes, before touching anything. */
export async function runRestore(values: { yes: boolean }, positionals: readonly string[]): Promise<number> {
  const [file] = positionals;
  if (!file) return 2;
  if (!values.yes) {
    console.error("boka db restore: replaces the current database contents; run again with --yes\nsee 'boka db restore --help'");
    return 2;
  }
  const config = loadConfig();
  return withDataDirLock(config, async () => {
    const result = await restoreBackup(config, file);
    console.log(`restored ${file}${result.movedAside ? ` (previous data moved to ${result.movedAside})` : ''}`);
    return 0;
  });
}

/** `boka db backups [--dir DIR] [--max-age-hours N]`: exit 1 when no backup is younger than N hours. */
export async function runBackups(values: { dir: string | undefined; 'max-age-hours': number; json: boolean }): Promise<number> {
  const dir = values.dir ?? loadConfig().ops.backupDir;
  const maxAge = values['max-age-hours'];
  const listing = listBackups(dir, Date.now(), maxAge);
  if (values.json) printJson({ dir, files: listing.files, recent: listing.recent, maxAgeHours: maxAge });
  else for (const f of listing.files) console.log(f);
  if (!listing.recent) console.error(`no backup younger than ${maxAge} h in ${dir}`);
  return listing.recent ? 0 : 1;
}
