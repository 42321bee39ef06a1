import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createJobQueue } from '../../src/jobs/index.js';
import { createNotificationsService, registerReminderJobs } from '../../src/notifications/index.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createMailbox } from '../helpers/doubles.js';
import { createBookingFixture, createTestClock, ok } from '../booking/helpers.js';

/** Reminders run on the durable queue (ADR 0022/0025): a recurring look-up enqueues one idempotent send each. */
let ctx: TestContext;
before(async () => {
  ctx = await createTestApp({ deps: { clock: createTestClock() } });
});
after(async () => ctx.close());

test('the recurring job enqueues due reminders and each is sent once, even when found twice', async () => {
  const f = await createBookingFixture(ctx.app);
  await ok(ctx.app, f.owner, 'PATCH', `${f.base}/settings`, { reminderLeadMinutes: 120 });
  const to = (await ok<{ email: string }>(ctx.app, f.owner, 'GET', `${f.base}/customers/${f.customerId}`)).email;
  const r = await ok<{ id: string; status: string }>(ctx.app, f.owner, 'POST', `${f.base}/reservations`, {
    serviceId: f.serviceId, staffId: f.staffId, customerId: f.customerId, start: '2026-03-26T09:00:00Z',
  });
  if (r.status !== 'confirmed') await ok(ctx.app, f.owner, 'PATCH', `${f.base}/reservations/${r.id}`, { status: 'confirmed' });

  const clock = createTestClock(Date.parse('2026-03-26T06:00:00Z'));
  const box = createMailbox();
  const notifications = createNotificationsService({
    db: ctx.database.db, clock, mail: box, publicUrl: 'https://book.example.com', mailFrom: 'bookings@boka.example', onMailError: (e) => { throw e; },
  });
  const queue = createJobQueue({ db: ctx.database.db, clock, instanceId: 'reminder-test', pollMs: 0, batchSize: 50, leaseMs: 60_000 });
  registerReminderJobs(queue, { notifications, everyMs: 60_000, batch: 100, now: () => clock.now() });
  await queue.start(); // schedules the recurring look-up (pollMs 0: no loop)
  const drain = async () => { while ((await queue.runDue()) > 0) { /* until nothing is due */ } };
  const mine = () => box.messages.filter((m) => m.to === to);

  await drain();
  assert.equal(mine().length, 0, '3 h before: outside the 120-minute lead time');
  clock.set(Date.parse('2026-03-26T07:30:00Z'));
  await drain();
  assert.equal(mine().length, 1);
  assert.match(mine()[0]!.subject, /^Reminder/);
  // A second look-up a minute later finds nothing new, and a duplicate send job sends nothing.
  clock.set(Date.parse('2026-03-26T07:31:00Z'));
  await queue.enqueue('reminder.send', { tenantId: f.tenant.id, reservationId: r.id });
  await drain();
  assert.equal(mine().length, 1, 'sent once');
  await queue.stop();
});
