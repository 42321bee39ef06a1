import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { addMember, signUp } from '../helpers/app.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createMailbox } from '../helpers/doubles.js';
import { call, createBookingFixture, createTestClock, ok } from '../booking/helpers.js';

/** iCal feeds (issue 17): capability URLs (ASVS 3.5.2 hashed, 7.1.1 not logged), revocable. */
const lines: string[] = [];
const logStream = new Writable({
  write(chunk: Buffer, _enc, done) {
    lines.push(chunk.toString('utf8'));
    done();
  },
});
let ctx: TestContext;
before(async () => {
  ctx = await createTestApp({ env: { LOG_LEVEL: 'trace' }, deps: { logStream, clock: createTestClock(), mail: createMailbox() } });
});
after(async () => ctx.close());

const pathOf = (url: string) => new URL(url).pathname;
const fetchFeed = (url: string) => ctx.app.inject({ method: 'GET', url: pathOf(url) });

describe('calendar feeds', () => {
  test('staff feed lifecycle: issue, read, rotate (old URL 404), revoke (404); the secret is not logged', async () => {
    const staffUser = await signUp(ctx.app, 'feedstaff');
    const f = await createBookingFixture(ctx.app, { staffUser });
    const r = await ok<{ id: string }>(ctx.app, f.owner, 'POST', `${f.base}/reservations`, {
      serviceId: f.serviceId, staffId: f.staffId, customerId: f.customerId, start: '2026-03-24T09:00:00Z',
    });
    const feed = await ok<{ url: string; createdAt: string }>(ctx.app, staffUser, 'POST', `${f.base}/staff/${f.staffId}/calendar-feed`);
    assert.match(pathOf(feed.url), /^\/api\/public\/calendar\/cal_[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}\.ics$/);
    const res = await fetchFeed(feed.url);
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/calendar/);
    assert.ok(res.body.includes('METHOD:PUBLISH'));
    assert.ok(res.body.replace(/\r\n[ \t]/g, '').includes(`UID:${r.id}@`));

    const rotated = await ok<{ url: string }>(ctx.app, f.owner, 'POST', `${f.base}/staff/${f.staffId}/calendar-feed`);
    assert.notEqual(rotated.url, feed.url);
    assert.equal((await fetchFeed(feed.url)).statusCode, 404, 'the previous URL stops working');
    assert.equal((await fetchFeed(rotated.url)).statusCode, 200);

    assert.equal((await call(ctx.app, staffUser, 'DELETE', `${f.base}/staff/${f.staffId}/calendar-feed`)).status, 204);
    assert.equal((await fetchFeed(rotated.url)).statusCode, 404);
    assert.equal((await call(ctx.app, staffUser, 'DELETE', `${f.base}/staff/${f.staffId}/calendar-feed`)).status, 404);

    const secrets = [feed.url, rotated.url].map((u) => pathOf(u).split('.')[1]!);
    assert.ok(lines.length > 5, 'the trace log was captured');
    assert.deepEqual(lines.filter((l) => secrets.some((s) => l.includes(s))), []);
  });

  test('unknown, malformed and tampered tokens are 404', async () => {
    for (const file of ['x.ics', 'cal_00000000-0000-4000-8000-000000000000.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.ics', 'cal_nope']) {
      assert.equal((await ctx.app.inject({ method: 'GET', url: `/api/public/calendar/${file}` })).statusCode, 404, file);
    }
    // A control character is refused by the input guard before the route (400), never a 5xx.
    assert.equal((await ctx.app.inject({ method: 'GET', url: '/api/public/calendar/%00.ics' })).statusCode, 400);
    const f = await createBookingFixture(ctx.app);
    const feed = await ok<{ url: string }>(ctx.app, f.owner, 'POST', `${f.base}/staff/${f.staffId}/calendar-feed`);
    const p = pathOf(feed.url);
    const tampered = p.replace(/\.([A-Za-z0-9_-])([A-Za-z0-9_-]{42})\.ics$/, (_m, c: string, rest: string) => `.${c === 'A' ? 'B' : 'A'}${rest}.ics`);
    assert.notEqual(tampered, p);
    assert.equal((await ctx.app.inject({ method: 'GET', url: tampered })).statusCode, 404);
  });

  test('who may issue: the linked customer or a manager; another staff member or customer is 403', async () => {
    const other = await signUp(ctx.app, 'otherstaff');
    const f = await createBookingFixture(ctx.app);
    await addMember(ctx.app, f.owner, f.tenant.id, other, 'staff');
    assert.equal((await call(ctx.app, other, 'POST', `${f.base}/staff/${f.staffId}/calendar-feed`)).status, 403);
    assert.equal((await call(ctx.app, other, 'POST', `${f.base}/customers/${f.customerId}/calendar-feed`)).status, 403);
    const byManager = await call<{ url: string }>(ctx.app, f.owner, 'POST', `${f.base}/customers/${f.customerId}/calendar-feed`);
    assert.equal(byManager.status, 201);
    assert.equal((await fetchFeed(byManager.body.url)).statusCode, 200);
    assert.equal((await call(ctx.app, f.owner, 'POST', `${f.base}/customers/00000000-0000-4000-8000-000000000000/calendar-feed`)).status, 404);
    assert.equal((await call(ctx.app, f.owner, 'POST', `${f.base}/customers/not-a-uuid/calendar-feed`)).status, 404);
  });

  test('a signed-in customer issues the feed of their own customer record, and only theirs', async () => {
    const f = await createBookingFixture(ctx.app);
    const customer = await signUp(ctx.app, 'feedcustomer');
    const booked = await ok<{ id: string; customerId: string }>(ctx.app, customer, 'POST', `/api/public/tenants/${f.tenant.slug}/reservations`, {
      serviceId: f.serviceId, start: '2026-03-25T10:00:00Z',
    });
    const feed = await call<{ url: string }>(ctx.app, customer, 'POST', `${f.base}/customers/${booked.customerId}/calendar-feed`);
    assert.equal(feed.status, 201);
    const body = (await fetchFeed(feed.body.url)).body.replace(/\r\n[ \t]/g, '');
    assert.ok(body.includes(`UID:${booked.id}@`));
    // The fixture's other customer record is not theirs.
    assert.equal((await call(ctx.app, customer, 'POST', `${f.base}/customers/${f.customerId}/calendar-feed`)).status, 403);
    assert.equal((await call(ctx.app, customer, 'POST', `${f.base}/staff/${f.staffId}/calendar-feed`)).status, 403);
  });

  test('a feed is bounded to the next 90 days', async () => {
    const f = await createBookingFixture(ctx.app);
    const near = await ok<{ id: string }>(ctx.app, f.owner, 'POST', `${f.base}/reservations`, {
      serviceId: f.serviceId, staffId: f.staffId, customerId: f.customerId, start: '2026-03-30T09:00:00Z',
    });
    const far = await ok<{ id: string }>(ctx.app, f.owner, 'POST', `${f.base}/reservations`, {
      serviceId: f.serviceId, staffId: f.staffId, customerId: f.customerId, start: '2026-07-30T09:00:00Z',
    });
    const feed = await ok<{ url: string }>(ctx.app, f.owner, 'POST', `${f.base}/customers/${f.customerId}/calendar-feed`);
    const body = (await fetchFeed(feed.url)).body.replace(/\r\n[ \t]/g, '');
    assert.ok(body.includes(`UID:${near.id}@`));
    assert.ok(!body.includes(`UID:${far.id}@`));
  });
});
