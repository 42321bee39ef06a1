import type { Config } from '../config/config.js';
import { APP_ROLE, type Database } from './database.js';
import { migrateToLatest } from './migrate.js';
import { createPgliteDatabase } from './pglite.js';
import { createPostgresDatabase } from './postgres.js';

export { APP_ROLE, withTenant, withUser } from './database.js';
export type { Database, Queryable, QueryResult, TransactionOptions } from './database.js';
export { BUILTIN_MIGRATIONS_DIR, migrateToLatest, readMigrationStatus, readSchemaVersion, type MigrationSource } from './migrate.js';
export { acquireDataDirLock, DataDirLockedError, type DataDirLock, type LockOwner } from './data-dir-lock.js';

/**
 * Opens the configured database, applies pending migrations as the owner role, and returns a
 * handle that runs as the non-superuser application role.
 */
export async function openDatabase(
  config: Pick<Config, 'databaseUrl' | 'dataDir' | 'databasePoolMax'> & Partial<Pick<Config, 'databasePreparedStatements' | 'migrationsDir'>>,
  opts: { migrate?: boolean } = {},
): Promise<Database> {
  const migrate = opts.migrate ?? true;
  if (config.databaseUrl) {
    if (migrate) {
      // A short-lived connection: prepared statements would gain nothing there.
      const owner = createPostgresDatabase({ url: config.databaseUrl, max: 1, asOwner: true, preparedStatements: false });
      try {
        await migrateToLatest(owner, { dir: config.migrationsDir });
      } finally {
        await owner.close();
      }
    }
    return createPostgresDatabase({
      url: config.databaseUrl,
      max: config.databasePoolMax,
      preparedStatements: config.databasePreparedStatements ?? true,
    });
  }
  const db = await createPgliteDatabase(config.dataDir);
  if (migrate) await migrateToLatest(db, { dir: config.migrationsDir });
  // PGlite has a single connection: after migrating as the superuser, drop to the app role
  // for the rest of the process so RLS applies exactly as on the server.
  await db.query(`SET ROLE ${APP_ROLE}`);
  return db;
}
