import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { buildServices } from '../../src/app.js';
import { withTenant } from '../../src/db/index.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { onServer } from '../helpers/database.js';
import { createMailbox, waitFor } from '../helpers/doubles.js';
import { call, createBookingFixture, createTestClock, type BookingFixture } from './helpers.js';

/**
 * Issue 17 item 5: one lock order for reservation changes, staff row S before reservation row R
 * (`lockReservationForChange`, docs/booking.md "Limits are race-safe"). The interleaving that
 * used to deadlock (40P01, a 500): a reschedule locked R and waited for S while a new booking
 * held S and waited to cancel R, a guest hold that lapsed between the reschedule's lapse check
 * and the booking's. An outside connection holds S so both requests queue on it in a known
 * order (the booking first); the manual clock then lets the hold lapse; pg_stat_activity tells
 * when each request waits. Reverting either path to "R, then S" fails these tests with a 500.
 *
 * PostgreSQL only: PGlite is one connection, so its transactions run one after another and
 * cannot wait for each other's locks at all.
 */
type Answer = { id: string; code?: string; status?: string; details?: Record<string, unknown> };

const lines: string[] = [];
const logStream = new Writable({
  write(chunk: Buffer, _enc, done) {
    lines.push(chunk.toString('utf8'));
    done();
  },
});
const clock = createTestClock(); // Monday 2026-03-23 06:00 UTC
const mailbox = createMailbox();
let ctx: TestContext;
let monitor: pg.Client;

describe('one lock order for reservation changes (PostgreSQL server)', { skip: onServer ? false : 'PGlite is single-connection: no two transactions ever wait for each other' }, () => {
  before(async () => {
    ctx = await createTestApp({
      deps: { clock, mail: mailbox, logStream },
      // Errors are logged, so a 40P01 behind a 500 would show in `lines`.
      env: { LOG_LEVEL: 'error', GUEST_BOOKINGS_PER_EMAIL_PER_HOUR: '0', GUEST_BOOKINGS_PER_IP_PER_HOUR: '0' },
    });
    monitor = new pg.Client({ connectionString: ctx.database.url });
    await monitor.connect();
  });
  after(async () => {
    await monitor?.end();
    await ctx?.close();
  });

  /** Backends of this test's database waiting for a heavyweight lock (row locks queue as such). */
  const lockWaiters = async () =>
    (await monitor.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )).rows[0]!.n;

  /** An outside transaction holding the staff row until `release`. */
  async function holdStaffRow(staffId: string): Promise<{ release(): Promise<void> }> {
    const c = new pg.Client({ connectionString: ctx.database.url });
    await c.connect();
    await c.query('BEGIN');
    await c.query('SELECT 1 FROM staff WHERE id = $1 FOR UPDATE', [staffId]);
    return {
      async release() {
        await c.query('COMMIT');
        await c.end();
      },
    };
  }

  /** A guest hold at `start` (30-minute hold from now) and its manage token. */
  async function guestHold(f: BookingFixture, start: string): Promise<{ id: string; token: string }> {
    const email = `hold-${f.tenant.slug}@guests.example.test`;
    const res = await call<Answer>(ctx.app, null, 'POST', `/api/public/tenants/${f.tenant.slug}/reservations`, {
      serviceId: f.serviceId, staffId: f.staffId, start, customer: { name: 'Held', email },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.status, 'pending');
    const token = /#token=(mng_\S+)/.exec(mailbox.last(email)!.text)![1]!;
    return { id: res.body.id, token };
  }

  const statusOf = (f: BookingFixture, id: string) =>
    withTenant(ctx.database.db, f.tenant.id, async (tx) =>
      (await tx.query<{ status: string; start: Date }>('SELECT status, starts_at AS start FROM reservations WHERE id = $1', [id])).rows[0]!);

  const deadlockLines = () => lines.filter((l) => l.includes('40P01') || /deadlock/i.test(l));

  /**
   * Queues a new booking of the hold's slot, then `change` of the hold, behind an outside lock
   * on the staff row; lets the hold lapse; releases the lock. Returns both answers.
   */
  async function interleave(f: BookingFixture, start: string, change: () => Promise<{ status: number; body: Answer }>) {
    const outside = await holdStaffRow(f.staffId);
    const requests: Array<Promise<{ status: number; body: Answer }>> = [];
    try {
      requests.push(call<Answer>(ctx.app, f.owner, 'POST', `${f.base}/reservations`, {
        serviceId: f.serviceId, staffId: f.staffId, customerId: f.customerId, start,
      }));
      await waitFor(async () => (await lockWaiters()) === 1, 500);
      // The hold is still live here: the change passes its own lapse check.
      requests.push(change());
      await waitFor(async () => (await lockWaiters()) === 2, 500);
      clock.set(clock.now() + 31 * 60_000); // the 30-minute hold lapses
    } finally {
      await outside.release();
    }
    const [booking, changing] = await Promise.all(requests);
    return { booking: booking!, changing: changing! };
  }

  test('a tenant reschedule and a booking that frees the same lapsed hold: no 40P01, the booking wins, the reschedule is 422', async () => {
    clock.set(Date.parse('2026-03-23T06:00:00Z'));
    const f = await createBookingFixture(ctx.app);
    const hold = await guestHold(f, '2026-03-24T10:00:00Z');
    const logged = deadlockLines().length;
    const { booking, changing } = await interleave(f, '2026-03-24T10:00:00Z', () =>
      call<Answer>(ctx.app, f.owner, 'PATCH', `${f.base}/reservations/${hold.id}`, { start: '2026-03-24T14:00:00Z' }));
    assert.ok(booking.status < 500 && changing.status < 500, JSON.stringify([booking, changing]));
    assert.equal(booking.status, 201, JSON.stringify(booking.body));
    assert.deepEqual([changing.status, changing.body.code], [422, 'invalid_state'], JSON.stringify(changing.body));
    const r = await statusOf(f, hold.id);
    assert.deepEqual([r.status, r.start.toISOString()], ['cancelled', '2026-03-24T10:00:00.000Z'], 'the hold was freed, not moved');
    assert.deepEqual(deadlockLines().slice(logged), []);
  });

  test('a manage-link reschedule and a booking that frees the same lapsed hold: no 40P01, the booking wins, the link is not used up', async () => {
    clock.set(Date.parse('2026-03-23T06:00:00Z'));
    const f = await createBookingFixture(ctx.app);
    const hold = await guestHold(f, '2026-03-24T11:00:00Z');
    const logged = deadlockLines().length;
    const { booking, changing } = await interleave(f, '2026-03-24T11:00:00Z', () =>
      call<Answer>(ctx.app, null, 'POST', '/api/public/manage/reschedule', { token: hold.token, start: '2026-03-24T15:00:00Z' }));
    assert.ok(booking.status < 500 && changing.status < 500, JSON.stringify([booking, changing]));
    assert.equal(booking.status, 201, JSON.stringify(booking.body));
    assert.deepEqual([changing.status, changing.body.code], [422, 'invalid_state'], JSON.stringify(changing.body));
    const r = await statusOf(f, hold.id);
    assert.deepEqual([r.status, r.start.toISOString()], ['cancelled', '2026-03-24T11:00:00.000Z']);
    const links = await withTenant(ctx.database.db, f.tenant.id, async (tx) =>
      (await tx.query<{ used: boolean }>('SELECT used_at IS NOT NULL AS used FROM manage_links WHERE reservation_id = $1', [hold.id])).rows);
    assert.deepEqual(links, [{ used: false }], 'the refused reschedule rolled back: no link consumed, none issued');
    assert.deepEqual(deadlockLines().slice(logged), []);
  });

  test('the cleanup job\'s hold sweeper takes the staff row before it cancels a hold', async () => {
    clock.set(Date.parse('2026-03-23T06:00:00Z'));
    const f = await createBookingFixture(ctx.app);
    const hold = await guestHold(f, '2026-03-24T12:00:00Z');
    clock.set(clock.now() + 31 * 60_000);
    const services = await buildServices(ctx.config, { db: ctx.database.db, clock, mail: mailbox, logStream });
    const outside = await holdStaffRow(f.staffId);
    const sweep = services.booking.effects.expireLapsedHolds(new Date(clock.now()), 100);
    try {
      await waitFor(async () => (await lockWaiters()) === 1, 500);
      assert.equal((await statusOf(f, hold.id)).status, 'pending', 'nothing changed while the staff row is held elsewhere');
    } finally {
      await outside.release();
    }
    assert.equal(await sweep, 1);
    assert.equal((await statusOf(f, hold.id)).status, 'cancelled');
  });
});
