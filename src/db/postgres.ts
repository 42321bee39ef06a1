import pg from 'pg';
import { APP_ROLE, scopeEntries, type Database, type Queryable, type TransactionScope } from './database.js';
import { createStatementNames } from './statement-names.js';

export interface PostgresOptions {
  url: string;
  max: number;
  /** Give each statement text a prepared-statement name (default true; ADR 0006). */
  preparedStatements?: boolean;
  /** Connect as the migration role without switching to the application role. */
  asOwner?: boolean;
  /**
   * DATABASE_POOL_WAIT_MS: how long a checkout waits for a pooled connection when all are busy
   * (then "timeout exceeded when trying to connect": pool_wait, 503 "The database is busy"), and
   * how long opening a new connection may take (a server that does not answer must not hang
   * requests): pg-pool has one setting for both. Default 2 s.
   */
  connectTimeoutMs?: number;
  /** Server-side statement_timeout; the client gives up 1 s later if the server is silent. Default 5 s. */
  statementTimeoutMs?: number;
}

/**
 * `BEGIN` and the transaction-local settings as one simple-protocol query: one round trip
 * instead of two. `scopeEntries` admits known names and UUID values only; the values are still
 * quoted by the driver's `escapeLiteral`, as defence in depth.
 */
function beginWith(scope: TransactionScope | undefined, readOnly: boolean): string {
  let sql = readOnly ? 'BEGIN READ ONLY' : 'BEGIN';
  for (const [name, value] of scopeEntries(scope)) sql += `; SELECT set_config('${name}', ${pg.escapeLiteral(value)}, true)`;
  return sql;
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
  // Named (prepared) statements: PostgreSQL parses and plans each once per connection
  // instead of on every call, which is most of the server's work for Boka's small queries.
  const nameOf = opts.preparedStatements === false ? () => undefined : createStatementNames();
  const run = async (on: pg.Pool | pg.PoolClient, sql: string, params?: readonly unknown[]) => {
    const res = await on.query({ text: sql, values: params as unknown[] | undefined, name: nameOf(sql) });
    return { rows: res.rows, rowCount: res.rowCount ?? res.rows.length };
  };
  const query: Queryable['query'] = (sql, params) => run(pool, sql, params);
  return {
    kind: 'postgres',
    query,
    async transaction(fn, scope, options) {
      // Built first: a refused scope must fail before a connection is checked out.
      const beginSql = beginWith(scope, options?.readOnly === true);
      const client = await pool.connect();
      // A checked-out client whose connection drops between statements emits 'error'; without
      // a listener that crashes the process. The next statement fails instead.
      const ignoreDrop = () => {};
      client.on('error', ignoreDrop);
      try {
        await client.query(beginSql);
        const result = await fn({ query: (sql, params) => run(client, sql, params) });
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
