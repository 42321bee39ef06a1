import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Config } from '../../src/config/config.js';
import { openDatabase, type Database, type Queryable } from '../../src/db/index.js';

/**
 * A fresh, migrated database for one test file: an in-memory PGlite by default, or a new
 * database on the server named by DATABASE_URL (dropped again by `drop`). Separate databases
 * let test files run in parallel against one server.
 */
export interface TestDatabase {
  db: Database;
  /** Connection string of the scratch database (server only). */
  url: string | undefined;
  drop(): Promise<void>;
}

export const onServer = Boolean(process.env.DATABASE_URL);

/** `settings.databasePoolWaitMs` (DATABASE_POOL_WAIT_MS) applies to the server pool only. */
export async function createTestDatabase(settings: Partial<Pick<Config, 'databasePoolWaitMs'>> = {}): Promise<TestDatabase> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) {
    const db = await openDatabase({ databaseUrl: undefined, dataDir: 'memory', databasePoolMax: 1 });
    return { db, url: undefined, drop: () => db.close() };
  }
  const name = `boka_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = await openDatabase({ databaseUrl: url.toString(), dataDir: 'memory', databasePoolMax: 10, databasePoolWaitMs: settings.databasePoolWaitMs });
  return {
    db,
    url: url.toString(),
    async drop() {
      await db.close();
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** Counts statements that mention `needle`, around a real database. */
export function countingDatabase(db: Database, needle: RegExp): { db: Database; count: () => number; reset: () => void } {
  let n = 0;
  const wrapQ = (q: Queryable): Queryable => ({
    query(sql, params) {
      if (needle.test(sql)) n += 1;
      return q.query(sql, params);
    },
  });
  const wrapped: Database = {
    ...db,
    kind: db.kind,
    query: (sql, params) => wrapQ(db).query(sql, params),
    transaction: (fn, scope) => db.transaction((tx) => fn(wrapQ(tx)), scope),
    execScript: (sql) => db.execScript(sql),
    poolStats: () => db.poolStats(),
    close: () => db.close(),
  };
  return { db: wrapped, count: () => n, reset: () => (n = 0) };
}

/**
 * Runs `sql` as the database owner (bypassing the boka_app grants), to play an attacker with
 * direct database access who edits the audit table.
 */
export async function asOwner(database: TestDatabase, sql: string, params: unknown[] = []): Promise<void> {
  if (database.url) {
    const c = new pg.Client({ connectionString: database.url });
    await c.connect();
    try {
      await c.query(sql, params);
    } finally {
      await c.end();
    }
    return;
  }
  await database.db.query('RESET ROLE');
  try {
    await database.db.query(sql, params);
  } finally {
    await database.db.query('SET ROLE boka_app');
  }
}
