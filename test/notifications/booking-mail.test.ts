import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createNotificationsService } from '../../src/notifications/index.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createMailbox, waitFor } from '../helpers/doubles.js';
import { call, createBookingFixture, createTestClock, ok, type BookingFixture } from '../booking/helpers.js';

/** Booking mail with .ics (issue 17): one mail per event, to the customer, through the mail port. */
const mailbox = createMailbox();
const clock = createTestClock();
let ctx: TestContext;
before(async () => {
  ctx = await createTestApp({ deps: { clock, mail: mailbox } });
});
after(async () => ctx.close());

const mailsTo = (to: string) => mailbox.messages.filter((m) => m.to === to);
const icsOf = (m: { attachments?: readonly { content: string; contentType: string }[] }) => {
  assert.equal(m.attachments?.length, 1, 'one .ics attachment');
  return m.attachments![0]!;
};
const line = (ics: string, name: string) => ics.replace(/\r\n[ \t]/g, '').split('\r\n').find((l) => l.startsWith(`${name}:`));

async function customerEmail(f: BookingFixture): Promise<string> {
  return (await ok<{ email: string }>(ctx.app, f.owner, 'GET', `${f.base}/customers/${f.customerId}`)).email;
}

describe('mail on reservation events', () => {
  test('created, rescheduled and cancelled by the tenant: REQUEST, REQUEST with a higher SEQUENCE, CANCEL', async () => {
    const f = await createBookingFixture(ctx.app, { timezone: 'Europe/Berlin' });
    const to = await customerEmail(f);
    const r = await ok<{ id: string }>(ctx.app, f.owner, 'POST', `${f.base}/reservations`, {
      serviceId: f.serviceId, staffId: f.staffId, customerId: f.customerId, start: '2026-03-24T09:00:00Z', notes: '<b>bold</b>',
    });
    const first = await waitFor(async () => mailsTo(to)[0]);
    const a = icsOf(first);
    assert.match(a.contentType, /^text\/calendar; charset=utf-8; method=REQUEST$/);
    assert.equal(line(a.content, 'METHOD'), 'METHOD:REQUEST');
    const uid = line(a.content, 'UID');
    assert.ok(uid?.startsWith(`UID:${r.id}@`));
    assert.equal(line(a.content, 'DTSTART'), 'DTSTART:20260324T090000Z');
    assert.match(first.text, /10:00 \(Europe\/Berlin\)/);
    assert.ok(first.html?.includes('&lt;b&gt;bold&lt;/b&gt;'));
    const seq0 = Number(line(a.content, 'SEQUENCE')!.split(':')[1]);

    await ok(ctx.app, f.owner, 'PATCH', `${f.base}/reservations/${r.id}`, { start: '2026-03-24T11:00:00Z' });
    const changed = await waitFor(async () => mailsTo(to)[1]);
    assert.match(changed.subject, /changed/);
    const c = icsOf(changed).content;
    assert.equal(line(c, 'UID'), uid);
    assert.equal(line(c, 'DTSTART'), 'DTSTART:20260324T110000Z');
    const seq1 = Number(line(c, 'SEQUENCE')!.split(':')[1]);
    assert.ok(seq1 > seq0, `SEQUENCE increases (${seq0} → ${seq1})`);

    await ok(ctx.app, f.owner, 'PATCH', `${f.base}/reservations/${r.id}`, { status: 'cancelled' });
    const cancelled = await waitFor(async () => mailsTo(to)[2]);
    const x = icsOf(cancelled);
    assert.match(x.contentType, /method=CANCEL/);
    assert.equal(line(x.content, 'METHOD'), 'METHOD:CANCEL');
    assert.equal(line(x.content, 'UID'), uid);
    assert.ok(Number(line(x.content, 'SEQUENCE')!.split(':')[1]) > seq1);
    assert.equal(mailsTo(to).length, 3, 'one mail per event');
  });

  test('a guest booking sends one mail (the manage-link mail) and it carries the .ics', async () => {
    const f = await createBookingFixture(ctx.app);
    const email = 'ics-guest@guests.example.test';
    const booked = await call<{ id: string }>(ctx.app, null, 'POST', `/api/public/tenants/${f.tenant.slug}/reservations`, {
      serviceId: f.serviceId, start: '2026-03-25T09:00:00Z', customer: { name: 'Gus', email },
    });
    assert.equal(booked.status, 201);
    const mail = await waitFor(async () => mailsTo(email)[0]);
    assert.match(mail.text, /#token=mng_/);
    assert.equal(line(icsOf(mail).content, 'STATUS'), 'STATUS:TENTATIVE');
    // Let any stray listener run, then count.
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(mailsTo(email).length, 1, 'no second mail for the same booking');

    // Confirming through the link: one confirmation mail from the sender (the guest flow sends none).
    const token = /#token=(mng_\S+)/.exec(mail.text)![1]!;
    assert.equal((await call(ctx.app, null, 'POST', '/api/public/manage/confirm', { token })).status, 200);
    const confirmed = await waitFor(async () => mailsTo(email)[1]);
    assert.match(confirmed.subject, /confirmed/);
    assert.equal(line(icsOf(confirmed).content, 'STATUS'), 'STATUS:CONFIRMED');

    // Rescheduling through the manage link: again exactly one mail (the new link), with the .ics.
    assert.equal((await call(ctx.app, null, 'POST', '/api/public/manage/reschedule', { token, start: '2026-03-25T11:00:00Z' })).status, 200);
    const moved = await waitFor(async () => mailsTo(email)[2]);
    assert.match(moved.text, /#token=mng_/);
    assert.equal(line(icsOf(moved).content, 'DTSTART'), 'DTSTART:20260325T110000Z');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(mailsTo(email).length, 3);
  });
});

describe('reminders', () => {
  test('dueReminders finds a confirmed booking inside the lead time; sendReminder sends once', async () => {
    const f = await createBookingFixture(ctx.app);
    await ok(ctx.app, f.owner, 'PATCH', `${f.base}/settings`, { reminderLeadMinutes: 120 });
    const to = await customerEmail(f);
    const r = await ok<{ id: string; status: string }>(ctx.app, f.owner, 'POST', `${f.base}/reservations`, {
      serviceId: f.serviceId, staffId: f.staffId, customerId: f.customerId, start: '2026-03-26T09:00:00Z',
    });
    if (r.status !== 'confirmed') await ok(ctx.app, f.owner, 'PATCH', `${f.base}/reservations/${r.id}`, { status: 'confirmed' });
    const reminderClock = createTestClock(Date.parse('2026-03-26T06:00:00Z'));
    const reminderBox = createMailbox();
    const n = createNotificationsService({ db: ctx.database.db, clock: reminderClock, mail: reminderBox, publicUrl: 'https://book.example.com', mailFrom: 'bookings@boka.example', onMailError: (e) => { throw e; } });

    const early = await n.dueReminders(reminderClock.now(), 1000);
    assert.ok(!early.some((d) => d.reservationId === r.id), '3 h before: outside the 120-minute lead time');
    reminderClock.set(Date.parse('2026-03-26T07:30:00Z'));
    const due = await n.dueReminders(reminderClock.now(), 1000);
    const mine = due.find((d) => d.reservationId === r.id);
    assert.deepEqual(mine, { tenantId: f.tenant.id, reservationId: r.id });
    assert.equal(await n.sendReminder(mine), true);
    assert.equal(await n.sendReminder(mine), false, 'idempotent: reminder_sent_at is claimed');
    const sent = reminderBox.messages.filter((m) => m.to === to);
    assert.equal(sent.length, 1);
    assert.match(sent[0]!.subject, /^Reminder/);
    assert.ok(!(await n.dueReminders(reminderClock.now(), 1000)).some((d) => d.reservationId === r.id));
  });

  test('reminderLeadMinutes 0 turns reminders off', async () => {
    const f = await createBookingFixture(ctx.app);
    await ok(ctx.app, f.owner, 'PATCH', `${f.base}/settings`, { reminderLeadMinutes: 0 });
    const r = await ok<{ id: string }>(ctx.app, f.owner, 'POST', `${f.base}/reservations`, {
      serviceId: f.serviceId, staffId: f.staffId, customerId: f.customerId, start: '2026-03-27T09:00:00Z',
    });
    const n = createNotificationsService({ db: ctx.database.db, clock, mail: createMailbox(), publicUrl: 'https://book.example.com', mailFrom: 'x@boka.example', onMailError: () => {} });
    assert.ok(!(await n.dueReminders(Date.parse('2026-03-27T08:30:00Z'), 1000)).some((d) => d.reservationId === r.id));
  });

  test('reminderLeadMinutes is bounded', async () => {
    const f = await createBookingFixture(ctx.app);
    assert.equal((await call(ctx.app, f.owner, 'PATCH', `${f.base}/settings`, { reminderLeadMinutes: 10_081 })).status, 400);
    assert.equal((await call(ctx.app, f.owner, 'PATCH', `${f.base}/settings`, { reminderLeadMinutes: -1 })).status, 400);
  });
});
