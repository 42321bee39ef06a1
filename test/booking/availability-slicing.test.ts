import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { createBookingFixture, createTestClock, type BookingFixture } from './helpers.js';

/**
 * Issue 12, item 1 (ADR 0012): an availability request hands the event loop back while it runs,
 * so other requests (`/api/health`) are not queued behind its statements and its sweep. On
 * embedded PGlite the statements themselves run on the loop; before the change a whole request
 * (and any transaction queued behind it) ran as one chain of promises.
 */
describe('availability yields the event loop', () => {
  let ctx: TestContext;
  let g: BookingFixture;
  before(async () => {
    ctx = await createTestApp({ deps: { clock: createTestClock() } });
    g = await createBookingFixture(ctx.app);
  });
  after(() => ctx.close());

  test('turns of the event loop happen while one page is computed, for both routes', async () => {
    for (const url of [
      `/api/public/tenants/${g.tenant.slug}/availability?serviceId=${g.serviceId}&from=2026-03-24T00:00:00Z&to=2026-04-24T00:00:00Z&limit=500`,
      `${g.base}/availability?serviceId=${g.serviceId}&from=2026-03-24T00:00:00Z&to=2026-04-24T00:00:00Z&limit=500`,
    ]) {
      let turns = 0;
      let done = false;
      const tick = () => {
        turns += 1;
        if (!done) setImmediate(tick);
      };
      const pending = ctx.app.inject({ method: 'GET', url, headers: url.startsWith('/api/public') ? {} : { authorization: `Bearer ${g.owner.accessToken}` } });
      setImmediate(tick);
      const res = await pending;
      done = true;
      assert.equal(res.statusCode, 200, res.body);
      assert.ok(res.json<{ slots: unknown[] }>().slots.length > 0);
      // One turn before each of the page's three statements at least.
      assert.ok(turns >= 3, `${turns} turns of the event loop during the request`);
    }
  });
});
