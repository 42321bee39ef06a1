import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createBusCache } from '../../src/cache/bus-cache.js';
import { createInProcessBus } from '../../src/cache/in-process-bus.js';

function newCache() {
  const lookups: string[] = [];
  const cache = createBusCache<{ v: number }>({
    bus: createInProcessBus(),
    clock: { now: () => 0 },
    max: 10,
    ttlSeconds: 60,
    onLookup: (r) => lookups.push(r),
  });
  return { cache, lookups };
}

describe('bus cache read-through (getOrLoad)', () => {
  test('a miss loads once and caches; the next call is a hit without loading', async () => {
    const { cache, lookups } = newCache();
    let loads = 0;
    const load = () => Promise.resolve({ v: ++loads });
    assert.deepEqual(await cache.getOrLoad('a', load), { v: 1 });
    assert.deepEqual(await cache.getOrLoad('a', load), { v: 1 });
    assert.equal(loads, 1);
    assert.deepEqual(lookups, ['miss', 'hit']);
  });

  test('peek reads an entry without counting a lookup', async () => {
    const { cache, lookups } = newCache();
    assert.equal(cache.peek('a'), undefined);
    await cache.getOrLoad('a', () => Promise.resolve({ v: 1 }));
    assert.deepEqual(cache.peek('a'), { v: 1 });
    assert.deepEqual(lookups, ['miss']);
  });

  test('undefined from the loader is returned and not cached', async () => {
    const { cache } = newCache();
    let loads = 0;
    const load = () => Promise.resolve((loads++, undefined));
    assert.equal(await cache.getOrLoad('a', load), undefined);
    assert.equal(await cache.getOrLoad('a', load), undefined);
    assert.equal(loads, 2);
  });

  test('an invalidation that lands while a load is in flight keeps the loaded value out of the cache', async () => {
    // The interleaving behind a stale cache entry: read the row, the row changes and its
    // invalidation arrives, then the old read would fill the cache for a whole TTL.
    for (const invalidate of [
      (c: ReturnType<typeof newCache>['cache']) => c.delete('a'),
      (c: ReturnType<typeof newCache>['cache']) => c.deleteWhere(() => false),
      (c: ReturnType<typeof newCache>['cache']) => c.clear(),
    ]) {
      const { cache } = newCache();
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const inFlight = cache.getOrLoad('a', async () => {
        await gate;
        return { v: 1 };
      });
      invalidate(cache);
      release();
      assert.deepEqual(await inFlight, { v: 1 }, 'the caller still gets what it read');
      assert.equal(cache.get('a'), undefined, 'but the cache does not keep it');
      assert.deepEqual(await cache.getOrLoad('a', () => Promise.resolve({ v: 2 })), { v: 2 });
      assert.deepEqual(cache.get('a'), { v: 2 });
    }
  });

  test("deleting one key does not keep other keys' loads out of the cache", async () => {
    // Otherwise every logout anywhere would make concurrent cold loads of other sessions miss again.
    const { cache } = newCache();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const inFlight = cache.getOrLoad('a', async () => {
      await gate;
      return { v: 1 };
    });
    cache.delete('b');
    release();
    await inFlight;
    assert.deepEqual(cache.peek('a'), { v: 1 });
  });

  test('two concurrent loads of one key: an invalidation marks both stale', async () => {
    const { cache } = newCache();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const load = async () => {
      await gate;
      return { v: 1 };
    };
    const first = cache.getOrLoad('a', load);
    const second = cache.getOrLoad('a', load);
    cache.delete('a');
    release();
    await Promise.all([first, second]);
    assert.equal(cache.peek('a'), undefined);
  });
});
