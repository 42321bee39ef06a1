import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createBusCache } from '../../src/cache/bus-cache.js';
import { createInProcessBus } from '../../src/cache/in-process-bus.js';

function newCache(ttlSeconds = 60) {
  const lookups: string[] = [];
  const cache = createBusCache<{ v: number }>({
    bus: createInProcessBus(),
    clock: { now: () => 0 },
    max: 10,
    ttlSeconds,
    onLookup: (r) => lookups.push(r),
    random: () => 0.5, // no TTL spread: the refresh-ahead timings below are exact
  });
  return { cache, lookups };
}

function gated<T>(value: T) {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let calls = 0;
  const load = async () => {
    calls++;
    await gate;
    return value;
  };
  return { load, release, calls: () => calls };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

  test('concurrent misses of one key share one load', async () => {
    const { cache } = newCache();
    const { load, release, calls } = gated({ v: 1 });
    const results = Promise.all([cache.getOrLoad('a', load), cache.getOrLoad('a', load), cache.getOrLoad('a', load)]);
    release();
    assert.deepEqual(await results, [{ v: 1 }, { v: 1 }, { v: 1 }]);
    assert.equal(calls(), 1);
  });

  test('a request after an invalidation does not join the load that started before it', async () => {
    // Otherwise a session revoked while its row was being read could be answered as live.
    const { cache } = newCache();
    const before = gated({ v: 1 });
    const first = cache.getOrLoad('a', before.load);
    cache.delete('a');
    const after = gated({ v: 2 });
    const second = cache.getOrLoad('a', after.load);
    before.release();
    after.release();
    assert.deepEqual(await first, { v: 1 });
    assert.deepEqual(await second, { v: 2 });
    assert.deepEqual(cache.peek('a'), { v: 2 });
  });

  test('refresh-ahead: a hit near the end of the TTL is served and reloaded, so the key does not expire', async () => {
    const { cache, lookups } = newCache(1); // refresh-ahead in the last 200 ms
    let loads = 0;
    const load = () => Promise.resolve({ v: ++loads });
    await cache.getOrLoad('a', load);
    await sleep(20);
    assert.deepEqual(await cache.getOrLoad('a', load), { v: 1 });
    assert.equal(loads, 1, 'early in the TTL: no reload');
    await sleep(860); // at ≈ 880 ms: inside the last fifth, with room for a slow timer
    assert.deepEqual(await cache.getOrLoad('a', load), { v: 1 }, 'the old value is served at once');
    await sleep(0);
    assert.equal(loads, 2, 'and reloaded in the background');
    await sleep(250); // past the first entry's TTL (1 s), inside the refreshed one's
    assert.deepEqual(await cache.getOrLoad('a', load), { v: 2 });
    assert.deepEqual(lookups, ['miss', 'hit', 'hit', 'hit']);
  });

  test('refresh-ahead that finds the thing gone removes the entry', async () => {
    const { cache } = newCache(1);
    let exists = true;
    const load = () => Promise.resolve(exists ? { v: 1 } : undefined);
    await cache.getOrLoad('a', load);
    exists = false; // e.g. a revocation whose bus message was lost
    await sleep(880);
    await cache.getOrLoad('a', load);
    await sleep(0);
    assert.equal(cache.peek('a'), undefined);
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
