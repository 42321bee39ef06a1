import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Postgrator from 'postgrator';
import type { Database } from './database.js';

/** The migrations shipped with this build; `BOKA_MIGRATIONS_DIR` (config.migrationsDir) replaces it. */
export const BUILTIN_MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
// Arbitrary constant: serialises concurrent instances migrating the same server database.
const MIGRATION_LOCK_KEY = 7_262_021;

/** Where the migration files come from; `dir` undefined means the ones shipped with this build. */
export interface MigrationSource {
  readonly dir?: string | undefined;
}

function createPostgrator(owner: Database, source: MigrationSource = {}): Postgrator {
  return new Postgrator({
    migrationPattern: join(source.dir ?? BUILTIN_MIGRATIONS_DIR, '*.sql'),
    driver: 'pg',
    schemaTable: 'boka_schema_version',
    validateChecksums: true,
    execQuery: async (sql: string) => ({ rows: (await owner.query(sql)).rows }),
    execSqlScript: async (sql: string) => {
      await owner.execScript(sql);
    },
  });
}

/**
 * Applies pending migrations with postgrator, as the connecting (owner) role. Each migration
 * file is one implicit transaction on PostgreSQL, so a failure leaves no half-applied file.
 */
export async function migrateToLatest(owner: Database, source: MigrationSource = {}): Promise<{ applied: string[]; version: number }> {
  if (owner.kind === 'postgres') await owner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
  try {
    const migrator = createPostgrator(owner, source);
    const applied = await migrator.migrate();
    return { applied: applied.map((m) => m.name), version: await migrator.getDatabaseVersion() };
  } finally {
    if (owner.kind === 'postgres') await owner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
  }
}

/** Reports whether the database schema is at the newest migration shipped with this build. */
export async function readMigrationStatus(db: Database, source: MigrationSource = {}): Promise<{ current: number; latest: number }> {
  const latest = await createPostgrator(db, source).getMaxVersion();
  return { current: await readSchemaVersion(db), latest };
}

/** The newest migration applied to the database (0 before the first). */
export async function readSchemaVersion(db: Database): Promise<number> {
  const res = await db.query<{ version: string | null }>('SELECT max(version) AS version FROM boka_schema_version');
  return Number(res.rows[0]?.version ?? 0);
}
