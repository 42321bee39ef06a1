import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createInvalidatedCache } from '../../src/cache/invalidated-cache.js';
import { createInProcessBus } from '../../src/cache/in-process-bus.js';

function newCache(ttlSeconds = 60) {
  const lookups: string[] = [];
  const clock = { at: 1_000, now: () => clock.at };
  const bus = createInProcessBus();
  const cache = createInvalidatedCache<{ v: number }>({
    bus,
    clock,
    max: 10,
    ttlSeconds,
    onLookup: (r) => lookups.push(r),
    random: () => 0.5, // no TTL spread: the refresh-ahead timings below are exact
  });
  return { cache, lookups, clock, bus };
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

const settle = () => new Promise((r) => setImmediate(r));

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
    const { cache, lookups, clock } = newCache(60); // refresh-ahead in the last 12 s
    let loads = 0;
    const load = () => Promise.resolve({ v: ++loads });
    await cache.getOrLoad('a', load);
    clock.at += 47_000;
    assert.deepEqual(await cache.getOrLoad('a', load), { v: 1 });
    await settle();
    assert.equal(loads, 1, 'before the last fifth: no reload');
    clock.at += 2_000; // 49 s
    assert.deepEqual(await cache.getOrLoad('a', load), { v: 1 }, 'the old value is served at once');
    await settle();
    assert.equal(loads, 2, 'and reloaded in the background');
    clock.at += 30_000; // past the first entry's 60 s, inside the reloaded one's
    assert.deepEqual(await cache.getOrLoad('a', load), { v: 2 });
    assert.deepEqual(lookups, ['miss', 'hit', 'hit', 'hit']);
    clock.at += 31_000; // past the reloaded entry's TTL too: an unused key expires
    assert.equal(cache.get('a'), undefined);
  });

  test('refresh-ahead runs at most two background reloads at once; the rest wait for a later hit', async () => {
    const { cache, clock } = newCache(60);
    for (const key of ['a', 'b', 'c']) await cache.getOrLoad(key, () => Promise.resolve({ v: 1 }));
    clock.at += 50_000; // all three due together, like entries filled by one cold start
    const held = gated({ v: 2 });
    for (const key of ['a', 'b', 'c']) assert.deepEqual(await cache.getOrLoad(key, held.load), { v: 1 });
    assert.equal(held.calls(), 2, 'a third reload would take a third pooled connection');
    held.release();
    await settle();
    assert.deepEqual([cache.peek('a'), cache.peek('b'), cache.peek('c')], [{ v: 2 }, { v: 2 }, { v: 1 }]);
    const later = gated({ v: 3 });
    assert.deepEqual(await cache.getOrLoad('c', later.load), { v: 1 }, 'served at once');
    later.release();
    await settle();
    assert.equal(later.calls(), 1, 'a slot is free again: the next hit reloads');
    assert.deepEqual(cache.peek('c'), { v: 3 });
  });

  test('refresh-ahead that finds the thing gone removes the entry', async () => {
    const { cache, clock } = newCache(60);
    await cache.getOrLoad('a', () => Promise.resolve({ v: 1 }));
    // e.g. a revocation whose bus message was lost: the row is gone now.
    const { load, release } = gated<{ v: number } | undefined>(undefined);
    clock.at += 50_000;
    assert.deepEqual(await cache.getOrLoad('a', load), { v: 1 });
    assert.deepEqual(cache.peek('a'), { v: 1 }, 'still there until the reload answers');
    release();
    await settle();
    assert.equal(cache.peek('a'), undefined);
  });

  test('a refresh that an invalidation overtook does not put its value back', async () => {
    const { cache, clock } = newCache(60);
    await cache.getOrLoad('a', () => Promise.resolve({ v: 1 }));
    clock.at += 50_000;
    const { load, release } = gated({ v: 2 });
    await cache.getOrLoad('a', load); // starts the background reload
    cache.delete('a');
    release();
    await settle();
    assert.equal(cache.peek('a'), undefined);
  });

  test('an `all` invalidation on the bus empties the cache', async () => {
    const { cache, bus } = newCache();
    await cache.getOrLoad('a', () => Promise.resolve({ v: 1 }));
    await bus.publish({ kind: 'all' });
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
