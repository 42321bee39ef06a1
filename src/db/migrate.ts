import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Postgrator from 'postgrator';
import type { Database } from './database.js';
import {
  parseMigrationVersion,
  planAutoMigration,
  readDeclaredPhase,
  requiredSchemaLevel,
  type MigrationFile,
} from './migration-phase.core.js';
import { planMigrationRun, type MigrationPlan } from './migration-plan.core.js';
import { listInstances } from './instance-registry.repo.js';

/** The migrations shipped with this build. Tests pass another directory (fixtures). */
export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
// Arbitrary constant: serialises concurrent instances migrating the same server database.
const MIGRATION_LOCK_KEY = 7_262_021;

function createPostgrator(owner: Database, dir: string): Postgrator {
  return new Postgrator({
    migrationPattern: join(dir, '*.sql'),
    driver: 'pg',
    schemaTable: 'boka_schema_version',
    validateChecksums: true,
    execQuery: async (sql: string) => ({ rows: (await owner.query(sql)).rows }),
    execSqlScript: async (sql: string) => {
      await owner.execScript(sql);
    },
  });
}

/** Every `NNN.do.*.sql` file in `dir` with its declared phase, oldest first. */
export function loadMigrations(dir: string = MIGRATIONS_DIR): MigrationFile[] {
  const files: MigrationFile[] = [];
  for (const name of readdirSync(dir)) {
    const version = parseMigrationVersion(name);
    if (version === undefined) continue;
    const sql = readFileSync(join(dir, name), 'utf8');
    files.push({ version, name, phase: readDeclaredPhase(version, sql), sql });
  }
  return files.sort((a, b) => a.version - b.version);
}

/** Holds the migration advisory lock (server only: PGlite has one connection) while `fn` runs. */
export async function withMigrationLock<T>(owner: Database, fn: () => Promise<T>): Promise<T> {
  if (owner.kind === 'postgres') await owner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
  try {
    return await fn();
  } finally {
    if (owner.kind === 'postgres') await owner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
  }
}

/**
 * Applies pending migrations up to and including `target`, in order, as the connecting (owner)
 * role; the caller holds the migration lock. Never migrates down. Each file is one implicit
 * transaction on PostgreSQL, so a failure leaves no half-applied file.
 */
export async function applyMigrationsUpTo(owner: Database, target: number, dir: string = MIGRATIONS_DIR): Promise<string[]> {
  const migrator = createPostgrator(owner, dir);
  if (target <= (await migrator.getDatabaseVersion())) return [];
  const applied = await migrator.migrate(String(target));
  return applied.map((m) => basename(m.filename));
}

/** Applies every pending migration, contract ones included, without the registry gate. Tests and fresh databases. */
export async function migrateToLatest(owner: Database, dir: string = MIGRATIONS_DIR): Promise<{ applied: string[]; version: number }> {
  return withMigrationLock(owner, async () => {
    const latest = loadMigrations(dir).at(-1)?.version ?? 0;
    const applied = await applyMigrationsUpTo(owner, latest, dir);
    return { applied, version: await readSchemaVersion(owner) };
  });
}

export class SchemaNotReadyError extends Error {
  override name = 'SchemaNotReadyError';
}

/**
 * What an instance does at start (ADR 0010): applies pending `expand` migrations up to the first
 * pending `contract` one, never past it. It then refuses to start if its build still needs an
 * expand migration behind that contract; pending contract migrations alone do not stop it, since
 * the code shipping them works without them. Contract migrations run only through `boka db migrate`.
 */
export async function migrateForStart(owner: Database, dir: string = MIGRATIONS_DIR): Promise<{ applied: string[]; version: number }> {
  return withMigrationLock(owner, async () => {
    const migrations = loadMigrations(dir);
    const auto = planAutoMigration(migrations, await readSchemaVersion(owner));
    if (auto.stranded.length > 0 && auto.heldContract) {
      throw new SchemaNotReadyError(
        `migration ${auto.heldContract.name} (contract) is pending and this build needs ${auto.stranded.map((m) => m.name).join(', ')} after it; ` +
          'run `boka db migrate` once no older release is running (docs/operations.md, "Schema changes during a release")',
      );
    }
    const applied = auto.target === undefined ? [] : await applyMigrationsUpTo(owner, auto.target, dir);
    return { applied, version: await readSchemaVersion(owner) };
  });
}

/**
 * current: applied; latest: newest shipped; required: newest `expand` shipped, the level this build
 * needs to serve (readiness). `current >= required` with contract migrations pending is normal.
 */
export async function readMigrationStatus(db: Database, dir: string = MIGRATIONS_DIR): Promise<{ current: number; latest: number; required: number }> {
  const migrations = loadMigrations(dir);
  return { current: await readSchemaVersion(db), latest: migrations.at(-1)?.version ?? 0, required: requiredSchemaLevel(migrations) };
}

/** The newest migration applied to the database (0 before the first, even before postgrator's table exists). */
export async function readSchemaVersion(db: Database): Promise<number> {
  try {
    const res = await db.query<{ version: string | null }>('SELECT max(version) AS version FROM boka_schema_version');
    return Number(res.rows[0]?.version ?? 0);
  } catch (err) {
    // Only a database that was never migrated may lack the table; anything else is an error.
    const table = await db.query<{ present: boolean }>(`SELECT to_regclass('boka_schema_version') IS NOT NULL AS present`);
    if (table.rows[0]?.present === false) return 0;
    throw err;
  }
}

export interface MigrationRunOptions {
  /** `expand`: the pre-rollout step (expand migrations before the first pending contract). */
  readonly phase: 'expand' | 'all';
  readonly force: boolean;
  /** Print the plan, apply nothing. */
  readonly dryRun: boolean;
  readonly dir?: string;
}

/**
 * `boka db migrate`: under the migration lock, reads the applied level and the instance registry
 * (the database's clock), plans (src/db/migration-plan.core.ts), and applies up to the plan's
 * target unless `dryRun`. Contract migrations run only here, never at an instance's start.
 */
export async function runMigrations(owner: Database, options: MigrationRunOptions): Promise<{ plan: MigrationPlan; applied: string[] }> {
  const dir = options.dir ?? MIGRATIONS_DIR;
  return withMigrationLock(owner, async () => {
    const { now, instances } = await listInstances(owner);
    const plan = planMigrationRun({
      migrations: loadMigrations(dir),
      current: await readSchemaVersion(owner),
      instances,
      now,
      phase: options.phase,
      force: options.force,
    });
    if (options.dryRun || plan.target === undefined) return { plan, applied: [] };
    return { plan, applied: await applyMigrationsUpTo(owner, plan.target, dir) };
  });
}
