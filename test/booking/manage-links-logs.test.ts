import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createMailbox } from '../helpers/doubles.js';
import { call, createBookingFixture, createTestClock } from './helpers.js';

/** ASVS 7.1.1: a manage-link token never reaches the log, whatever the level (ADR 0018). */
const lines: string[] = [];
const logStream = new Writable({
  write(chunk: Buffer, _enc, done) {
    lines.push(chunk.toString('utf8'));
    done();
  },
});
const mailbox = createMailbox();
let ctx: TestContext;
before(async () => {
  ctx = await createTestApp({ env: { LOG_LEVEL: 'trace' }, deps: { logStream, clock: createTestClock(), mail: mailbox } });
});
after(async () => ctx.close());

test('manage-link tokens and their secrets are not logged at trace level', async () => {
  const f = await createBookingFixture(ctx.app);
  const email = 'logs-guest@guests.example.test';
  const booked = await call(ctx.app, null, 'POST', `/api/public/tenants/${f.tenant.slug}/reservations`, {
    serviceId: f.serviceId, start: '2026-03-24T09:00:00Z', customer: { name: 'Logs', email },
  });
  assert.equal(booked.status, 201);
  const token = /#token=(mng_\S+)/.exec(mailbox.last(email)!.text)![1]!;
  for (const action of ['reservation', 'confirm', 'cancel']) {
    assert.equal((await call(ctx.app, null, 'POST', `/api/public/manage/${action}`, { token })).status, 200);
  }
  await call(ctx.app, null, 'POST', '/api/public/manage/reservation', { token: `${token}x` });
  const secret = token.split('.')[1]!;
  assert.ok(lines.length > 5, 'the trace log was captured');
  const leaked = lines.filter((l) => l.includes(secret));
  assert.deepEqual(leaked, []);
});
