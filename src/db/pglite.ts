import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { btree_gist } from '@electric-sql/pglite/contrib/btree_gist';
import { acquireDataDirLock } from './data-dir-lock.js';
import { scopeEntries, type Database, type Queryable, type QueryResult } from './database.js';

function toResult<R>(res: { rows: unknown[]; affectedRows?: number }): QueryResult<R> {
  return { rows: res.rows as R[], rowCount: res.affectedRows ?? res.rows.length };
}

/**
 * Embedded PostgreSQL (PGlite, WASM). One connection, so transactions are serialised by
 * PGlite's own mutex; `dataDir === 'memory'` keeps everything in memory. A directory is locked
 * for the life of the handle: PGlite has no lock of its own, and a second process writing the
 * same files loses or corrupts data (throws DataDirLockedError naming the holder).
 */
export async function createPgliteDatabase(dataDir: string): Promise<Database> {
  if (dataDir !== 'memory') mkdirSync(dataDir, { recursive: true });
  const lock = dataDir === 'memory' ? null : acquireDataDirLock(dataDir);
  let pg: PGlite;
  try {
    pg = await PGlite.create({
      dataDir: dataDir === 'memory' ? undefined : dataDir,
      extensions: { btree_gist },
    });
  } catch (err) {
    lock?.release();
    throw err;
  }
  const wrap = (q: Pick<PGlite, 'query'>): Queryable => ({
    async query<R>(sql: string, params?: readonly unknown[]) {
      return toResult<R>(await q.query(sql, params as unknown[] | undefined));
    },
  });
  const root = wrap(pg);
  return {
    kind: 'pglite',
    query: root.query,
    transaction: async (fn, scope, options) => {
      const settings = scopeEntries(scope);
      return pg.transaction(async (tx) => {
        if (options?.readOnly) await tx.query('SET TRANSACTION READ ONLY');
        for (const [name, value] of settings) await tx.query(`SELECT set_config($1, $2, true)`, [name, value]);
        return fn(wrap(tx));
      });
    },
    async execScript(sql) {
      const results = await pg.exec(sql);
      return results.map((r) => ({ rows: r.rows as Record<string, unknown>[] }));
    },
    poolStats: () => ({ total: 1, idle: 1, waiting: 0 }),
    close: async () => {
      try {
        await pg.close();
      } finally {
        lock?.release();
      }
    },
  };
}
