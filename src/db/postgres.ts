import pg from 'pg';
import { APP_ROLE, type Database, type Queryable } from './database.js';

export interface PostgresOptions {
  url: string;
  max: number;
  /** Connect as the migration role without switching to the application role. */
  asOwner?: boolean;
}

/** Pooled connection to a PostgreSQL server. Every pooled connection runs `SET ROLE boka_app`. */
export function createPostgresDatabase(opts: PostgresOptions): Database {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.max,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // The pool emits 'error' for idle clients whose connection drops; without a listener
  // that would crash the process. The next checkout reconnects.
  pool.on('error', () => {});
  if (!opts.asOwner) {
    pool.on('connect', (client) => {
      client.query(`SET ROLE ${APP_ROLE}`).catch(() => client.release(true));
    });
  }
  const query: Queryable['query'] = async (sql, params) => {
    const res = await pool.query(sql, params as unknown[] | undefined);
    return { rows: res.rows, rowCount: res.rowCount ?? res.rows.length };
  };
  return {
    kind: 'postgres',
    query,
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn({
          async query(sql, params) {
            const res = await client.query(sql, params as unknown[] | undefined);
            return { rows: res.rows, rowCount: res.rowCount ?? res.rows.length };
          },
        });
        await client.query('COMMIT');
        client.release();
        return result;
      } catch (err) {
        // If even ROLLBACK fails the connection is broken: destroy it instead of pooling it.
        const healthy = await client.query('ROLLBACK').then(() => true, () => false);
        client.release(!healthy);
        throw err;
      }
    },
    async execScript(sql) {
      const res = (await pool.query(sql)) as unknown as pg.QueryResult | pg.QueryResult[];
      return (Array.isArray(res) ? res : [res]).map((r) => ({ rows: r.rows }));
    },
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    close: () => pool.end(),
  };
}
