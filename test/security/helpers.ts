import pg from 'pg';
import type { Database, Queryable } from '../../src/db/index.js';
import type { MailMessage, MailTransport } from '../../src/mail/index.js';
import type { TestDatabase } from '../helpers/database.js';

/** A settable clock, so TOTP steps and token expiry can be crossed without waiting. */
export function createManualClock(start = Date.now()) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms), set: (ms: number) => (now = ms) };
}

/** Mail transport that keeps messages (the port's test double; the thing under test is the caller). */
export function createMailbox(): MailTransport & { messages: MailMessage[]; last(to: string): MailMessage | undefined } {
  const messages: MailMessage[] = [];
  return {
    messages,
    async send(m) {
      messages.push(m);
    },
    last: (to) => [...messages].reverse().find((m) => m.to === to),
  };
}

/**
 * Polls `probe` until it returns a value (audit rows are written after the response). Bounded
 * by attempts, not by a timing assertion.
 */
export async function waitFor<T>(probe: () => Promise<T | null | undefined | false>, attempts = 200): Promise<T> {
  for (let i = 0; i < attempts; i += 1) {
    const value = await probe();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('condition not reached');
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
