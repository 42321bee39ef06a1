import { performance } from 'node:perf_hooks';
import type { Database, Queryable } from '../db/index.js';
import { isConnectionError, isDriverConnectionMessage, isPoolWaitTimeout, isQueryTimeout } from '../db/errors.js';
import type { DbErrorKind, Metrics } from './metrics.js';

/** Sorts a database failure into the `boka_db_errors_total{kind}` label; null if it is not one. */
export function classifyDbError(err: unknown): DbErrorKind | null {
  if (isQueryTimeout(err)) return 'timeout';
  if (isPoolWaitTimeout(err)) return 'pool_wait';
  if (isConnectionError(err) || isDriverConnectionMessage(err)) return 'connection';
  if (err instanceof Error && /Query read timeout/i.test(err.message)) return 'timeout';
  const code = typeof err === 'object' && err !== null && 'code' in err ? (err as { code: unknown }).code : undefined;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return null; // not from the database
  return code.startsWith('23') ? 'constraint' : 'query';
}

/**
 * Decorates a Database with `boka_db_*` metrics: every statement's duration (including inside
 * transactions) and every failure by kind. Behaviour is otherwise unchanged: errors are
 * rethrown as they are.
 */
export function instrumentDatabase(db: Database, metrics: Metrics): Database {
  // An error seen inside a transaction is rethrown by `transaction()` too; count it once.
  const counted = new WeakSet<object>();
  const record = (err: unknown) => {
    if (typeof err !== 'object' || err === null || counted.has(err)) return;
    const kind = classifyDbError(err);
    if (kind) {
      counted.add(err);
      metrics.countDbError(kind);
    }
  };
  const timed = <T>(run: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    return run().then(
      (value) => {
        metrics.observeDbQuery((performance.now() - start) / 1000);
        return value;
      },
      (err: unknown) => {
        metrics.observeDbQuery((performance.now() - start) / 1000);
        record(err);
        throw err;
      },
    );
  };
  const wrap = (q: Queryable): Queryable => ({
    query: <R>(sql: string, params?: readonly unknown[]) => timed(() => q.query<R>(sql, params)),
  });
  const instrumented: Database = {
    kind: db.kind,
    query: wrap(db).query,
    async transaction(fn, scope, options) {
      try {
        return await db.transaction((tx) => fn(wrap(tx)), scope, options);
      } catch (err) {
        record(err);
        throw err;
      }
    },
    execScript: (sql) => timed(() => db.execScript(sql)),
    poolStats: () => db.poolStats(),
    close: () => db.close(),
  };
  metrics.watchPool(instrumented);
  return instrumented;
}
