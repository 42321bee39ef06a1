import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { createPgliteDatabase } from '../../src/db/pglite.js';
import { listInstances, MIGRATIONS_DIR, type Queryable, type RegisteredInstance } from '../../src/db/index.js';
import { createTestDatabase } from '../helpers/database.js';
import { killAll, spawnBoka, waitForLog } from './helpers/processes.js';

/** The schema level a build reports: its newest shipped migration. */
const NEWEST = Math.max(...readdirSync(MIGRATIONS_DIR).map((f) => Number(/^(\d+)\.do\./.exec(f)?.[1] ?? 0)));

/** Polls `read` until `done` holds, at most `ms`; returns the last value (the caller asserts on it). */
async function waitFor<T>(read: () => Promise<T>, done: (v: T) => boolean, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    value = await read();
  }
  return value;
}

const serverUrl = process.env.DATABASE_URL;

/**
 * The real process (src/main.ts) registers in boka_instances once it listens, heartbeats, and
 * deregisters on SIGTERM after its drain (ADR 0010); a crash leaves a row that goes stale.
 */
describe('a running instance in the registry', () => {
  after(() => killAll());

  it('PostgreSQL: registered with its version and schema level, heartbeating, gone after SIGTERM', { skip: serverUrl ? false : 'needs DATABASE_URL' }, async () => {
    const name = `boka_reg_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(serverUrl!);
    url.pathname = `/${name}`;
    const owner = new pg.Client({ connectionString: url.toString() });
    try {
      const p = await spawnBoka({ DATABASE_URL: url.toString(), BOKA_SECRET_KEY: randomBytes(32).toString('base64url'), BOKA_VERSION: '7.7.7-e2e', INSTANCE_HEARTBEAT_SECONDS: '1' }, 60_000);
      await owner.connect();
      const q: Queryable = { query: async (sql, params) => { const r = await owner.query(sql, params as unknown[]); return { rows: r.rows, rowCount: r.rowCount ?? 0 }; } };
      const mine = (l: { instances: RegisteredInstance[] }) => l.instances.find((i) => i.version === '7.7.7-e2e');
      const first = mine(await waitFor(() => listInstances(q), (l) => mine(l) !== undefined));
      assert.ok(first, 'registered');
      assert.equal(first.schemaLevel, NEWEST);
      assert.equal(first.staleAfterSeconds, 3);
      const later = mine(await waitFor(() => listInstances(q), (l) => (mine(l)?.lastSeenAt.getTime() ?? 0) > first.lastSeenAt.getTime()));
      assert.ok(later && later.lastSeenAt > first.lastSeenAt, 'heartbeat');
      p.kill('SIGTERM');
      assert.equal(await p.exited, 0);
      assert.equal(mine(await listInstances(q)), undefined, 'deregistered on graceful shutdown');
    } finally {
      await owner.end().catch(() => {});
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  });

  it('PostgreSQL: SIGTERM while it is still registering waits for the registration, deletes its row and exits 0', { skip: serverUrl ? false : 'needs DATABASE_URL' }, async () => {
    const t = await createTestDatabase();
    const holder = new pg.Client({ connectionString: t.url });
    await holder.connect();
    try {
      // Registration runs after "listening": with the registry locked, the signal lands in it.
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE boka_instances IN ACCESS EXCLUSIVE MODE');
      const p = await spawnBoka({ DATABASE_URL: t.url!, BOKA_SECRET_KEY: randomBytes(32).toString('base64url'), BOKA_VERSION: '6.6.6-e2e' }, 60_000);
      p.kill('SIGTERM');
      await waitForLog(p, '"msg":"draining"');
      await holder.query('COMMIT');
      assert.equal(await p.exited, 0, p.logs.slice(-5).join('\n'));
      assert.ok(p.logs.some((l) => l.includes('shutdown complete')), 'a full drain');
      assert.ok(!p.logs.some((l) => l.includes('ready at')), 'never announced ready while draining');
      const rows = await holder.query<{ version: string }>('SELECT version FROM boka_instances');
      assert.deepEqual(rows.rows, [], 'no row left behind');
    } finally {
      await holder.end().catch(() => {});
      await t.drop();
    }
  });

  it('PGlite: SIGKILL leaves the row behind (it goes stale), SIGTERM removes it', { skip: serverUrl ? 'PGlite variant' : false }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'boka-reg-'));
    const env = { BOKA_DATA_DIR: join(dir, 'data'), BOKA_VERSION: '8.8.8-e2e', SHUTDOWN_TIMEOUT_MS: '10000' };
    const rows = async () => {
      const db = await createPgliteDatabase(env.BOKA_DATA_DIR);
      try {
        return (await listInstances(db)).instances;
      } finally {
        await db.close();
      }
    };
    try {
      // Registration happens after "listening"; the log line that follows it marks it done.
      const crashed = await spawnBoka(env, 60_000);
      await waitFor(async () => crashed.logs.some((l) => l.includes('ready at')), Boolean);
      crashed.kill('SIGKILL');
      await crashed.exited;
      const left = await rows();
      assert.deepEqual(left.map((i) => [i.version, i.schemaLevel]), [['8.8.8-e2e', NEWEST]]);

      const graceful = await spawnBoka(env, 60_000);
      await waitFor(async () => graceful.logs.some((l) => l.includes('ready at')), Boolean);
      graceful.kill('SIGTERM');
      assert.equal(await graceful.exited, 0);
      // Only the crashed process's row remains: the graceful one deleted its own.
      assert.deepEqual((await rows()).map((i) => i.id), left.map((i) => i.id));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
