import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { createAccessTokenService } from '../../src/auth/access-tokens.service.js';
import { createSessionService, type SessionService } from '../../src/auth/sessions.service.js';
import { createInProcessBus } from '../../src/cache/in-process-bus.js';
import type { CacheBus } from '../../src/cache/invalidation-bus.js';
import type { Clock } from '../../src/shared/clock.js';
import { createEventHub, NO_META } from '../../src/shared/events.js';
import { countingDatabase, createTestDatabase, onServer, type TestDatabase } from '../helpers/database.js';

/**
 * Sessions' last-seen writes are batched (ADR 0030): the values that fall due together are
 * written by one statement, a reload between a use and its write keeps the use, and a batch
 * never waits for a row lock (ASVS 4.0.3 3.3.2: the idle timeout must stay right).
 */
describe('session last-seen writes', () => {
  let database: TestDatabase;
  let statements: ReturnType<typeof countingDatabase>;
  let bus: CacheBus;
  let sessions: SessionService;
  let nowMs = Date.now();
  const clock: Clock = { now: () => nowMs };
  const HOUR = 3_600_000; // the batch timer never fires in these tests: they flush when they mean to

  before(async () => {
    database = await createTestDatabase();
    statements = countingDatabase(database.db, /UPDATE sessions/);
    bus = createInProcessBus();
    const tokens = await createAccessTokenService({
      db: database.db,
      encryptionKey: randomBytes(32),
      issuer: 'boka-test',
      audience: 'boka-test',
      ttlSeconds: 3600,
      clock,
    });
    sessions = createSessionService({
      db: statements.db,
      bus,
      clock,
      tokens,
      events: createEventHub(),
      idleTimeoutSeconds: 60, // last-seen is due every 15 s
      absoluteLifetimeSeconds: 86_400,
      cacheTtlSeconds: 3600,
      cacheMax: 10_000,
      lastSeenFlushMs: HOUR,
      onTouchError: (err) => assert.fail(err as Error),
    });
  });
  after(async () => {
    await sessions.close();
    await database.drop();
  });

  async function newSession(): Promise<string> {
    const userId = randomUUID();
    await database.db.query(
      `INSERT INTO users (id, email, email_normalized, name, password_hash) VALUES ($1, $2, $2, 'last-seen', 'x')`,
      [userId, `last-seen-${userId}@example.test`],
    );
    return (await sessions.create(userId, NO_META)).sessionId;
  }
  const lastSeenInDb = async (id: string) =>
    (await database.db.query<{ t: Date }>('SELECT last_seen_at AS t FROM sessions WHERE id = $1', [id])).rows[0]!.t.getTime();

  test('the last-seen values of many sessions falling due together cost one statement', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) ids.push(await newSession());
    for (const id of ids) assert.equal((await sessions.check(id)).ok, true);
    nowMs += 16_000;
    statements.reset();
    for (const id of ids) assert.equal((await sessions.check(id)).ok, true);
    assert.equal(statements.count(), 0, 'a use wrote its last-seen value at once');
    await sessions.flushLastSeen();
    assert.equal(statements.count(), 1, 'one statement per session, not per batch');
    for (const id of ids) assert.equal(await lastSeenInDb(id), nowMs);
  });

  test('a reload between a use and its write keeps the use (not revoked as idle)', async () => {
    const id = await newSession();
    const createdAt = nowMs;
    nowMs = createdAt + 20_000;
    assert.equal((await sessions.check(id)).ok, true); // due: waits for the batch
    await bus.publish({ kind: 'session', sessionId: id }); // the cached entry is dropped
    nowMs = createdAt + 61_000; // 61 s after the row's last-seen, 41 s after the use
    const check = await sessions.check(id);
    assert.deepEqual(check.ok ? 'live' : check.reason, 'live');
    await sessions.flushLastSeen();
    assert.equal(await lastSeenInDb(id), createdAt + 61_000);
  });

  test('close writes the values still waiting', async () => {
    const id = await newSession();
    nowMs += 16_000;
    await sessions.check(id);
    await sessions.close();
    assert.equal(await lastSeenInDb(id), nowMs);
  });

  // PGlite has one connection: no other transaction can hold a lock there.
  test('a batch skips a row another transaction holds locked instead of waiting', { skip: !onServer && 'needs DATABASE_URL' }, async () => {
    const locked = await newSession();
    const free = await newSession();
    const createdAt = nowMs;
    nowMs += 16_000;
    await sessions.check(locked);
    await sessions.check(free);
    const other = new pg.Client({ connectionString: database.url });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query('SELECT 1 FROM sessions WHERE id = $1 FOR UPDATE', [locked]); // e.g. its revocation
      let timer: NodeJS.Timeout | undefined;
      const waited = new Promise<'waited'>((resolve) => (timer = setTimeout(() => resolve('waited'), 10_000)));
      assert.equal(await Promise.race([sessions.flushLastSeen().then(() => 'done' as const), waited]), 'done');
      clearTimeout(timer);
      assert.equal(await lastSeenInDb(free), nowMs);
      assert.equal(await lastSeenInDb(locked), createdAt);
    } finally {
      await other.query('ROLLBACK');
      await other.end();
    }
  });
});
