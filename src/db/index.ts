import type { Config } from '../config/config.js';
import { APP_ROLE, type Database } from './database.js';
import { migrateForStart } from './migrate.js';
import { createPgliteDatabase } from './pglite.js';
import { createPostgresDatabase } from './postgres.js';

export { APP_ROLE, withTenant, withUser } from './database.js';
export type { Database, Queryable, QueryResult, TransactionOptions } from './database.js';
export {
  applyMigrationsUpTo,
  loadMigrations,
  migrateForStart,
  migrateToLatest,
  MIGRATIONS_DIR,
  readMigrationStatus,
  readSchemaVersion,
  runMigrations,
  SchemaNotReadyError,
  type MigrationRunOptions,
  withMigrationLock,
} from './migrate.js';
export * from './migration-phase.core.js';
export * from './migration-plan.core.js';
export * from './instance-registry.repo.js';
export { acquireDataDirLock, DataDirLockedError, type DataDirLock, type LockOwner } from './data-dir-lock.js';

/**
 * Opens the configured database, applies pending `expand` migrations as the owner role (never a
 * `contract` one: ADR 0010, src/db/migrate.ts migrateForStart), and returns a handle that runs as
 * the non-superuser application role.
 */
export async function openDatabase(
  config: Pick<Config, 'databaseUrl' | 'dataDir' | 'databasePoolMax'> &
    Partial<Pick<Config, 'databasePoolWaitMs' | 'databasePreparedStatements' | 'migrationsDir'>>,
  opts: { migrate?: boolean } = {},
): Promise<Database> {
  const migrate = opts.migrate ?? true;
  if (config.databaseUrl) {
    if (migrate) {
      // A short-lived connection: prepared statements would gain nothing there.
      const owner = createPostgresDatabase({ url: config.databaseUrl, max: 1, asOwner: true, preparedStatements: false });
      try {
        await migrateForStart(owner, config.migrationsDir);
      } finally {
        await owner.close();
      }
    }
    return createPostgresDatabase({
      url: config.databaseUrl,
      max: config.databasePoolMax,
      connectTimeoutMs: config.databasePoolWaitMs,
      preparedStatements: config.databasePreparedStatements ?? true,
    });
  }
  const db = await createPgliteDatabase(config.dataDir);
  if (migrate) await migrateForStart(db, config.migrationsDir);
  // PGlite has a single connection: after migrating as the superuser, drop to the app role
  // for the rest of the process so RLS applies exactly as on the server.
  await db.query(`SET ROLE ${APP_ROLE}`);
  return db;
}

/**
 * A handle as the owner role (the migration role), for `boka db migrate`: the server login with
 * one connection, or the embedded database before it drops to the application role.
 */
export async function openOwnerDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir'>): Promise<Database> {
  if (config.databaseUrl) return createPostgresDatabase({ url: config.databaseUrl, max: 1, asOwner: true, preparedStatements: false });
  return createPgliteDatabase(config.dataDir);
}
