import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildServices } from '../../src/app.js';
import { withTenant } from '../../src/db/index.js';
import { CLEANUP_JOB, createJobQueue, registerCleanupJob } from '../../src/jobs/index.js';
import { createTenant, createTestApp, inviteToken, signUp, uniqueEmail, type TestContext } from '../helpers/app.js';
import { asOwner } from '../helpers/database.js';
import { createManualClock, waitFor } from '../helpers/doubles.js';
import { createBookingFixture, ok } from '../booking/helpers.js';

/**
 * ADR 0022: the recurring cleanup job purges what expired by its own rules (sessions with their
 * refresh tokens, invitations, one-time tokens), in bounded batches, and leaves live rows alone.
 * OWASP ASVS 3.3.1 (sessions ended server side stay ended; expired ones are removed).
 */
const clock = createManualClock(Date.parse('2026-06-01T08:00:00Z'));
let ctx: TestContext;

before(async () => {
  ctx = await createTestApp({ deps: { clock } });
});
after(async () => ctx.close());

const count = async (sql: string, params: unknown[] = []) => (await ctx.database.db.query<{ n: number }>(sql, params)).rows[0]?.n;

function cleanupQueue(batch: number, expireHolds?: (at: Date, batch: number) => Promise<number>) {
  const q = createJobQueue({ db: ctx.database.db, clock, instanceId: 'cleanup-test', pollMs: 0, batchSize: 5, leaseMs: 60_000 });
  registerCleanupJob(q, { db: ctx.database.db, clock, everyMs: 600_000, batch, ...(expireHolds ? { expireHolds } : {}) });
  return q;
}

test('expired sessions, refresh tokens and invitations are purged in bounded runs; live ones stay', async () => {
  const owner = await signUp(ctx.app, 'owner');
  const tenant = await createTenant(ctx.app, owner);
  await inviteToken(ctx.app, owner, tenant.id, uniqueEmail('invitee'), 'staff');
  await signUp(ctx.app, 'old-1');
  await signUp(ctx.app, 'old-2');
  clock.advance(8 * 24 * 3600 * 1000); // past the session lifetime and the 7-day invitation TTL
  const live = await signUp(ctx.app, 'live');
  const invitations = () => withTenant(ctx.database.db, tenant.id, async (tx) =>
    (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM invitations WHERE tenant_id = $1', [tenant.id])).rows[0]?.n);
  assert.equal(await invitations(), 1);
  const expiredSessions = () => count('SELECT count(*)::int AS n FROM sessions WHERE expires_at <= $1', [new Date(clock.now())]);
  assert.equal(await expiredSessions(), 3);

  const q = cleanupQueue(2);
  await q.start(); // schedules the recurring job (pollMs 0: no loop)
  assert.equal(await q.runDue(), 1);
  assert.equal(await expiredSessions(), 1, 'bounded: two sessions per run');
  clock.advance(600_000);
  assert.equal(await q.runDue(), 1, 'the next run was scheduled one interval later');
  assert.equal(await expiredSessions(), 0);
  assert.equal(await invitations(), 0);
  assert.equal(await count('SELECT count(*)::int AS n FROM sessions WHERE id = $1', [live.sessionId]), 1, 'a live session stays');
  assert.equal(await count('SELECT count(*)::int AS n FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id WHERE s.expires_at <= $1', [new Date(clock.now())]), 0);
  assert.equal(await count("SELECT count(*)::int AS n FROM jobs WHERE name = $1 AND status IN ('queued', 'running')", [CLEANUP_JOB]), 1, 'one live recurring row');
  await q.stop();
});

test('a lapsed guest hold is recorded as cancelled; a live hold and a plain pending booking stay pending', async () => {
  const f = await createBookingFixture(ctx.app);
  const day = new Date(clock.now() + 2 * 86_400_000).toISOString().slice(0, 10);
  const ids: string[] = [];
  for (const hour of ['10', '12', '14']) {
    ids.push((await ok<{ id: string }>(ctx.app, f.owner, 'POST', `${f.base}/reservations`, {
      serviceId: f.serviceId, staffId: f.staffId, customerId: f.customerId, start: `${day}T${hour}:00:00Z`,
    })).id);
  }
  // Guest holds as ADR 0018 writes them: one lapsed a minute ago, one lapsing in an hour.
  await asOwner(ctx.database, 'UPDATE reservations SET hold_expires_at = $2 WHERE id = $1', [ids[0], new Date(clock.now() - 60_000)]);
  await asOwner(ctx.database, 'UPDATE reservations SET hold_expires_at = $2 WHERE id = $1', [ids[1], new Date(clock.now() + 3_600_000)]);
  // The purge function itself leaves reservations alone (migration 017): without booking's hold
  // sweeper nothing changes; with it (ADR 0024) the lapsed hold is cancelled.
  const bare = cleanupQueue(100);
  clock.advance(600_000);
  await bare.start();
  assert.equal(await bare.runDue(), 1);
  await bare.stop();
  const pending = await withTenant(ctx.database.db, f.tenant.id, async (tx) =>
    (await tx.query<{ n: number }>("SELECT count(*)::int AS n FROM reservations WHERE id = ANY($1::uuid[]) AND status = 'pending'", [ids])).rows[0]?.n);
  assert.equal(pending, 3);
  const services = await buildServices(ctx.config, { db: ctx.database.db, clock });
  const q = cleanupQueue(100, (at, batch) => services.booking.effects.expireLapsedHolds(at, batch));
  clock.advance(600_000);
  await q.start();
  assert.equal(await q.runDue(), 1);
  await q.stop();
  const statuses = await withTenant(ctx.database.db, f.tenant.id, async (tx) =>
    (await tx.query<{ status: string }>('SELECT status FROM reservations WHERE id = ANY($1::uuid[]) ORDER BY starts_at', [ids])).rows.map((r) => r.status));
  assert.deepEqual(statuses, ['cancelled', 'pending', 'pending']);
});

test('the app runs the cleanup job from ready and stops its worker on close', async () => {
  const other = await createTestApp({ env: { JOBS_POLL_MS: '10' } });
  try {
    const done = await waitFor(async () => (await other.database.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM jobs WHERE name = $1 AND status = 'done'", [CLEANUP_JOB])).rows[0]?.n, 500);
    assert.equal(done, 1);
  } finally {
    await other.close();
  }
});
