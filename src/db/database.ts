import { isUuid } from '../shared/ids.js';

/** Minimal query surface shared by the embedded (PGlite) and server (node-postgres) adapters. */
export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
}

export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

/** Transaction-local settings the row-level security policies read (`current_setting(...)`). */
export type ScopeSetting = 'app.tenant_id' | 'app.user_id';
export type TransactionScope = Readonly<Partial<Record<ScopeSetting, string>>>;
const SCOPE_SETTINGS: ReadonlySet<string> = new Set<ScopeSetting>(['app.tenant_id', 'app.user_id']);

/**
 * The scope as [setting, value] pairs, checked: known setting names only, and values that are
 * UUIDs (every scope names a row by id). Anything else is a programming error, refused before
 * any SQL is built, identically on both adapters.
 */
export function scopeEntries(scope: TransactionScope | undefined): Array<[ScopeSetting, string]> {
  const entries = Object.entries(scope ?? {}) as Array<[ScopeSetting, unknown]>;
  for (const [name, value] of entries) {
    if (!SCOPE_SETTINGS.has(name)) throw new Error(`unknown transaction scope setting ${name}`);
    if (!isUuid(value)) throw new Error(`transaction scope ${name} must be a UUID`);
  }
  return entries as Array<[ScopeSetting, string]>;
}

export interface TransactionOptions {
  /**
   * `BEGIN READ ONLY` (PGlite: `SET TRANSACTION READ ONLY`): PostgreSQL refuses any write
   * inside with SQLSTATE 25006. For reads, so that a read path cannot write (ADR 0007).
   */
  readOnly?: boolean;
}

/** The database port. One implementation per folder-less adapter file: `pglite.ts`, `postgres.ts`. */
export interface Database extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /**
   * Runs `fn` in one transaction; rolls back on any thrown error. `scope` is applied with
   * `set_config(name, value, true)` before `fn` runs (the server adapter sends it with BEGIN,
   * in the same round trip).
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>, scope?: TransactionScope, options?: TransactionOptions): Promise<T>;
  /** Executes a multi-statement script as the connecting (migration) role. */
  execScript(sql: string): Promise<Array<{ rows: Record<string, unknown>[] }>>;
  /** Pool statistics for metrics; PGlite reports a single connection. */
  poolStats(): { total: number; idle: number; waiting: number };
  close(): Promise<void>;
}

/** Database role the application runs as. Not a superuser, so row-level security applies. */
export const APP_ROLE = 'boka_app';

/**
 * Runs `fn` in a transaction whose `app.tenant_id` setting is `tenantId`.
 * Row-level security policies read that setting: it is the second guard behind the
 * `tenantId` argument every repository function takes.
 */
export function withTenant<T>(db: Database, tenantId: string, fn: (tx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<T> {
  return db.transaction(fn, { 'app.tenant_id': tenantId }, options);
}

/** Like withTenant, but scopes rows to one user (e.g. that user's memberships across tenants). */
export function withUser<T>(db: Database, userId: string, fn: (tx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<T> {
  return db.transaction(fn, { 'app.user_id': userId }, options);
}
