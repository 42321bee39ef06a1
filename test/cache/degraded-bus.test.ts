import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createInvalidatedCache, DEGRADED_TTL_MS } from '../../src/cache/invalidated-cache.js';
import type { CacheBus } from '../../src/cache/invalidation-bus.js';
import { createInProcessBus } from '../../src/cache/in-process-bus.js';
import type { Clock } from '../../src/shared/clock.js';
import { bearer, createTestApp, signUp, type TestContext } from '../helpers/app.js';

/** A real in-process bus whose health the test controls, standing in for a Redis outage. */
function createSwitchableBus(): CacheBus & { healthy: boolean } {
  const inner = createInProcessBus();
  const bus = { ...inner, healthy: true, isHealthy: () => bus.healthy };
  return bus;
}

describe('caches while the invalidation bus is down', () => {
  test('entries older than the degraded TTL become misses; fresh ones still hit', () => {
    let now = 0;
    const bus = createSwitchableBus();
    const lookups: string[] = [];
    const cache = createInvalidatedCache<{ v: number }>({ bus, clock: { now: () => now }, max: 10, ttlSeconds: 60, onLookup: (r) => lookups.push(r) });
    cache.set('a', { v: 1 });
    now += DEGRADED_TTL_MS + 1;
    assert.deepEqual(cache.get('a'), { v: 1 }, 'bus healthy: the normal TTL applies');
    bus.healthy = false;
    assert.equal(cache.get('a'), undefined, 'bus down: too old to trust');
    cache.set('a', { v: 2 });
    now += DEGRADED_TTL_MS - 1;
    assert.deepEqual(cache.get('a'), { v: 2 });
    assert.deepEqual(lookups, ['hit', 'miss', 'hit']);
  });

  describe('through the app', () => {
    let ctx: TestContext;
    let nowMs = Date.now();
    const clock: Clock = { now: () => nowMs };
    const bus = createSwitchableBus();
    before(async () => {
      ctx = await createTestApp({ deps: { bus, clock } });
    });
    after(() => ctx.close());

    test('a revocation whose bus message was lost is seen within the degraded TTL', async () => {
      const user = await signUp(ctx.app, 'degraded');
      const me = () => ctx.app.inject({ url: '/api/auth/me', headers: bearer(user.accessToken) });
      assert.equal((await me()).statusCode, 200); // session now cached
      bus.healthy = false;
      // Another instance revokes the session; its invalidation never arrives here.
      await ctx.database.db.query(`UPDATE sessions SET revoked_at = now() WHERE id = $1`, [user.sessionId]);
      nowMs += DEGRADED_TTL_MS + 1_000;
      assert.equal((await me()).statusCode, 401);
    });
  });
});
