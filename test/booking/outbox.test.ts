import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { withTenant } from '../../src/db/index.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { asOwner } from '../helpers/database.js';
import { createMailbox, waitFor } from '../helpers/doubles.js';
import { call, createBookingFixture, ok, type BookingFixture } from './helpers.js';

/**
 * ADR 0024: the transactional outbox. A reservation change writes its mail and webhook jobs in
 * its own transaction. Instance A commits with nothing run after the commit (its worker stopped,
 * `JOBS_RUN_AFTER_COMMIT=off`: the state a kill -9 right after COMMIT leaves); instance B, started
 * afterwards on the same database, sends every mail and delivers every message exactly once.
 */
type Received = { path: string; headers: IncomingHttpHeaders; body: { type: string; data: { reservationId: string } } };

// Real time plus an offset, so bookings are in the future and holds can lapse on demand.
let offset = 0;
const clock = { now: () => Date.now() + offset };
const received: Received[] = [];
let receiver: Server;
let origin: string;
let ctx: TestContext; // instance A: dies right after its commits
let b: FastifyInstance; // instance B: started afterwards on the same database
const boxA = createMailbox();
const boxB = createMailbox();
let f: BookingFixture;
const EFFECT_JOBS = ['booking.guest_mail', 'reservation.mail', 'webhook.deliver'];

before(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(body) as Received['body'] });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  ctx = await createTestApp({
    deps: { clock, mail: boxA },
    env: { PUBLIC_URL: 'https://book.example.test/', JOBS_POLL_MS: '0', JOBS_RUN_AFTER_COMMIT: 'off', GUEST_BOOKINGS_PER_IP_PER_HOUR: '0' },
  });
  f = await createBookingFixture(ctx.app);
  await ok(ctx.app, f.owner, 'POST', `${f.base}/webhooks`, { url: `${origin}/hook`, events: ['reservation.created', 'reservation.cancelled'] });
});
after(async () => {
  if (b) await b.close();
  await ctx.close();
  await new Promise((r) => receiver.close(r));
});

let day = 2;
const nextDay = () => new Date(Date.now() + day++ * 86_400_000).toISOString().slice(0, 10);
const tokenIn = (text: string) => /https:\/\/book\.example\.test\/booking\/manage#token=(mng_[^\s"<]+)/.exec(text)?.[1];
const liveEffectJobs = async () =>
  (await ctx.database.db.query<{ n: number }>("SELECT count(*)::int AS n FROM jobs WHERE name = ANY($1::text[]) AND status IN ('queued', 'running')", [EFFECT_JOBS])).rows[0]!.n;
const allEffectJobs = async () => (await ctx.database.db.query<{ n: number }>('SELECT count(*)::int AS n FROM jobs WHERE name = ANY($1::text[])', [EFFECT_JOBS])).rows[0]!.n;
const messagesFor = (reservationId: string, type: string) => received.filter((r) => r.body.data.reservationId === reservationId && r.body.type === type);

describe('a crash between the commit and the sends', () => {
  const guestEmail = 'robin-outbox@guests.example.test';
  let guestReservation: string;
  let memberReservation: string;
  let customerEmail: string;

  test('instance A commits the bookings and their jobs, and sends nothing', async () => {
    customerEmail = (await ok<{ email: string }>(ctx.app, f.owner, 'GET', `${f.base}/customers/${f.customerId}`)).email;
    const guest = await call<{ id: string; status: string }>(ctx.app, null, 'POST', `/api/public/tenants/${f.tenant.slug}/reservations`, {
      serviceId: f.serviceId, start: `${nextDay()}T10:00:00Z`, customer: { name: 'Robin Outbox', email: guestEmail },
    });
    assert.equal(guest.status, 201, JSON.stringify(guest.body));
    guestReservation = guest.body.id;
    memberReservation = (await ok<{ id: string }>(ctx.app, f.owner, 'POST', `${f.base}/reservations`, {
      serviceId: f.serviceId, staffId: f.staffId, customerId: f.customerId, start: `${nextDay()}T10:00:00Z`,
    })).id;
    assert.equal(boxA.messages.filter((m) => m.to === guestEmail || m.to === customerEmail).length, 0, 'nothing ran after the commits');
    assert.equal(received.length, 0);
    const queued = await ctx.database.db.query<{ name: string; n: number }>(
      "SELECT name, count(*)::int AS n FROM jobs WHERE status = 'queued' AND name = ANY($1::text[]) GROUP BY name ORDER BY name", [EFFECT_JOBS]);
    assert.deepEqual(queued.rows, [{ name: 'booking.guest_mail', n: 1 }, { name: 'reservation.mail', n: 1 }, { name: 'webhook.deliver', n: 2 }]);
  });

  test('instance B, started on the same database, mails and delivers each exactly once', async () => {
    b = await buildApp({ ...ctx.config, jobs: { ...ctx.config.jobs, pollMs: 10, runAfterCommit: true } }, { db: ctx.database.db, clock, mail: boxB });
    await b.ready();
    await waitFor(async () => (await liveEffectJobs()) === 0 && received.length >= 2, 1000);
    // More polls of B's worker: nothing is sent twice.
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(boxB.messages.filter((m) => m.to === guestEmail).length, 1);
    assert.equal(boxB.messages.filter((m) => m.to === customerEmail).length, 1);
    assert.equal(messagesFor(guestReservation, 'reservation.created').length, 1);
    assert.equal(messagesFor(memberReservation, 'reservation.created').length, 1);
    assert.equal(received.length, 2);
    assert.equal(new Set(received.map((r) => r.headers['webhook-id'])).size, 2);
    const failed = await ctx.database.db.query<{ n: number }>("SELECT count(*)::int AS n FROM jobs WHERE status = 'failed'");
    assert.equal(failed.rows[0]!.n, 0);
  });

  test('the guest mail carries a working manage link whose token never sat in the jobs table in clear', async () => {
    const mail = boxB.messages.find((m) => m.to === guestEmail)!;
    const token = tokenIn(mail.text);
    assert.ok(token, mail.text);
    const view = await call<{ reservation: { id: string } }>(b, null, 'POST', '/api/public/manage/reservation', { token });
    assert.equal(view.status, 200, JSON.stringify(view.body));
    assert.equal(view.body.reservation.id, guestReservation);
    const secret = token.split('.')[1]!;
    const payloads = (await ctx.database.db.query<{ p: string }>('SELECT payload::text AS p FROM jobs')).rows.map((r) => r.p).join('\n');
    assert.ok(payloads.includes(guestReservation), 'the guest mail job is there (done)');
    assert.ok(!payloads.includes(secret), 'no manage token secret in any job payload');
    assert.ok(!payloads.includes(token.slice(0, 40)), 'no manage token in any job payload');
    assert.ok(!payloads.includes(guestEmail), 'no guest address in clear either');
  });
});

describe('a rolled-back change', () => {
  before(async () => {
    // Fails the COMMIT itself (a deferred constraint trigger), after every statement of the
    // booking, its effects included, ran: the latest moment a transaction can still roll back.
    await asOwner(ctx.database, `CREATE FUNCTION test_fail_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'rolled back at commit'; END $$`);
    await asOwner(ctx.database, `CREATE CONSTRAINT TRIGGER test_fail_at_commit AFTER INSERT ON reservations DEFERRABLE INITIALLY DEFERRED
      FOR EACH ROW WHEN (NEW.notes = 'roll back') EXECUTE FUNCTION test_fail_at_commit()`);
  });
  after(async () => {
    await asOwner(ctx.database, 'DROP TRIGGER test_fail_at_commit ON reservations');
    await asOwner(ctx.database, 'DROP FUNCTION test_fail_at_commit()');
  });

  test('writes no job, sends no mail and delivers nothing (member and guest bookings)', async () => {
    const jobsBefore = await allEffectJobs();
    const mailsBefore = boxA.messages.length + boxB.messages.length;
    const receivedBefore = received.length;
    const member = await call(ctx.app, f.owner, 'POST', `${f.base}/reservations`, {
      serviceId: f.serviceId, staffId: f.staffId, customerId: f.customerId, start: `${nextDay()}T11:00:00Z`, notes: 'roll back',
    });
    assert.equal(member.status, 500);
    const guest = await call(b, null, 'POST', `/api/public/tenants/${f.tenant.slug}/reservations`, {
      serviceId: f.serviceId, start: `${nextDay()}T11:00:00Z`, notes: 'roll back', customer: { name: 'Rolled Back', email: 'rolled-back@guests.example.test' },
    });
    assert.equal(guest.status, 500);
    const kept = await ctx.database.db.query<{ n: number }>("SELECT count(*)::int AS n FROM jobs WHERE payload::text LIKE '%' || $1 || '%'", [f.tenant.id]);
    assert.ok(kept.rows[0]!.n >= 4, 'the earlier jobs of this tenant are there');
    assert.equal(await allEffectJobs(), jobsBefore, 'no job from either rolled-back booking');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(boxA.messages.length + boxB.messages.length, mailsBefore);
    assert.equal(received.length, receivedBefore);
  });
});

describe('the cleanup job and a lapsed guest hold', () => {
  test('cancels it with exactly one reservation.cancelled delivery and no mail, however often it runs', async () => {
    const email = 'lapsing@guests.example.test';
    const hold = await ok<{ id: string; status: string }>(b, null, 'POST', `/api/public/tenants/${f.tenant.slug}/reservations`, {
      serviceId: f.serviceId, start: `${nextDay()}T12:00:00Z`, customer: { name: 'Lapsing Guest', email },
    });
    assert.equal(hold.status, 'pending');
    // Sent right after the commit, or by B's worker when its poll claimed the job first.
    await waitFor(async () => boxB.messages.some((m) => m.to === email), 1000);
    const cleanups = async () => (await ctx.database.db.query<{ n: number }>("SELECT count(*)::int AS n FROM jobs WHERE name = 'cleanup.expired' AND status = 'done'")).rows[0]!.n;
    const runsBefore = await cleanups();
    offset += 45 * 60_000; // past the 30-minute hold and the 10-minute cleanup interval
    await waitFor(async () => messagesFor(hold.id, 'reservation.cancelled').length > 0, 1000);
    const status = await withTenant(ctx.database.db, f.tenant.id, async (tx) =>
      (await tx.query<{ status: string }>('SELECT status FROM reservations WHERE id = $1', [hold.id])).rows[0]?.status);
    assert.equal(status, 'cancelled');
    // Two more cleanup runs find nothing more to do.
    for (let i = 1; i <= 2; i += 1) {
      offset += 11 * 60_000;
      await waitFor(async () => (await cleanups()) >= runsBefore + 1 + i, 1000);
    }
    await waitFor(async () => (await liveEffectJobs()) === 0, 1000);
    assert.equal(messagesFor(hold.id, 'reservation.cancelled').length, 1);
    assert.equal(boxB.messages.filter((m) => m.to === email).length, 1, 'no cancellation mail for a hold nobody confirmed');
  });
});

describe('a booking that needs the slot of a lapsed hold', () => {
  test('cancels the hold and writes its one reservation.cancelled message in the booking\'s transaction', async () => {
    await b.close(); // no worker and no cleanup from here on: only the booking can free the hold
    const start = `${nextDay()}T14:00:00Z`;
    const hold = await ok<{ id: string }>(ctx.app, null, 'POST', `/api/public/tenants/${f.tenant.slug}/reservations`, {
      serviceId: f.serviceId, staffId: f.staffId, start, customer: { name: 'Late Guest', email: 'late@guests.example.test' },
    });
    offset += 31 * 60_000;
    const member = await call<{ id: string }>(ctx.app, null, 'POST', `/api/public/tenants/${f.tenant.slug}/reservations`, {
      serviceId: f.serviceId, staffId: f.staffId, start, customer: { name: 'Next Guest', email: 'next@guests.example.test' },
    });
    assert.equal(member.status, 201, JSON.stringify(member.body));
    const deliveries = await ctx.database.db.query<{ event: string }>(
      "SELECT payload->>'event' AS event FROM jobs WHERE name = 'webhook.deliver' AND payload->'data'->>'reservationId' = $1", [hold.id]);
    assert.deepEqual(deliveries.rows.map((r) => r.event).sort(), ['reservation.cancelled', 'reservation.created']);
    const mails = await ctx.database.db.query<{ n: number }>("SELECT count(*)::int AS n FROM jobs WHERE name = 'reservation.mail' AND payload->>'reservationId' = $1", [hold.id]);
    assert.equal(mails.rows[0]!.n, 0, 'no cancellation mail for a lapsed hold');
  });
});
