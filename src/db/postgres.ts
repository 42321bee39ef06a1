import pg from 'pg';
import { APP_ROLE, type Database, type Queryable } from './database.js';

export interface PostgresOptions {
  url: string;
  max: number;
  /** Connect as the migration role without switching to the application role. */
  asOwner?: boolean;
  /** Give up connecting after this long (an unreachable server must not hang requests). Default 2 s. */
  connectTimeoutMs?: number;
  /** Server-side statement_timeout; the client gives up 1 s later if the server is silent. Default 5 s. */
  statementTimeoutMs?: number;
}

/**
 * Pooled connection to a PostgreSQL server. Application connections start as role boka_app
 * (startup option `-c role=…`, so no connection is ever used before the switch).
 */
export function createPostgresDatabase(opts: PostgresOptions): Database {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.max,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 2_000,
    idleTimeoutMillis: 30_000,
    // Migrations (asOwner) may legitimately run long; application statements may not.
    ...(opts.asOwner
      ? {}
      : {
          options: `-c role=${APP_ROLE}`,
          statement_timeout: opts.statementTimeoutMs ?? 5_000,
          // Client-side bound for a server or network that stops answering altogether.
          query_timeout: (opts.statementTimeoutMs ?? 5_000) + 1_000,
        }),
    keepAlive: true,
  });
  // The pool emits 'error' for idle clients whose connection drops; without a listener
  // that would crash the process. The next checkout reconnects.
  pool.on('error', () => {});
  const query: Queryable['query'] = async (sql, params) => {
    const res = await pool.query(sql, params as unknown[] | undefined);
    return { rows: res.rows, rowCount: res.rowCount ?? res.rows.length };
  };
  return {
    kind: 'postgres',
    query,
    async transaction(fn) {
      const client = await pool.connect();
      // A checked-out client whose connection drops between statements emits 'error'; without
      // a listener that crashes the process. The next statement fails instead.
      const ignoreDrop = () => {};
      client.on('error', ignoreDrop);
      try {
        await client.query('BEGIN');
        const result = await fn({
          async query(sql, params) {
            const res = await client.query(sql, params as unknown[] | undefined);
            return { rows: res.rows, rowCount: res.rowCount ?? res.rows.length };
          },
        });
        await client.query('COMMIT');
        client.off('error', ignoreDrop);
        client.release();
        return result;
      } catch (err) {
        // If even ROLLBACK fails the connection is broken: destroy it instead of pooling it.
        const healthy = await client.query('ROLLBACK').then(() => true, () => false);
        client.off('error', ignoreDrop);
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
