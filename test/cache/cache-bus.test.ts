import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createInProcessBus } from '../../src/cache/in-process-bus.js';
import { createRedisBus, parseInvalidation } from '../../src/cache/redis-bus.js';
import type { Invalidation } from '../../src/cache/cache-bus.js';
import { eventually, runCacheBusContract } from './cache-bus.contract.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

async function redisReachable(): Promise<boolean> {
  const probe = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 1_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => {});
  try {
    await probe.connect();
    await probe.ping();
    return true;
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

const REDIS_SKIP = (await redisReachable()) ? false : `Redis is not reachable at ${REDIS_URL}`;
// Pub/sub channels are server-wide: a unique channel keeps parallel runs apart.
const channel = `boka-test:${randomUUID()}`;

runCacheBusContract('in-process', { create: async () => createInProcessBus() });

if (REDIS_SKIP) {
  describe('CacheBus contract: redis', () => {
    it('runs against a Redis server', { skip: REDIS_SKIP }, () => {});
  });
} else {
  runCacheBusContract('redis', {
    create: async () => createRedisBus({ url: REDIS_URL, channel }),
    connectPeer: async () => createRedisBus({ url: REDIS_URL, channel }),
  });
}

describe('redis bus specifics', { skip: REDIS_SKIP }, () => {
  const closers: Array<() => Promise<unknown> | void> = [];
  after(async () => {
    for (const close of closers) await close();
  });

  it('ignores malformed or forged messages on the channel', async () => {
    const ch = `boka-test:${randomUUID()}`;
    const bus = createRedisBus({ url: REDIS_URL, channel: ch });
    closers.push(() => bus.close());
    const seen: Invalidation[] = [];
    bus.subscribe((m) => seen.push(m));
    assert.equal(await bus.waitUntilReady(5_000), true);
    const raw = new Redis(REDIS_URL);
    closers.push(() => raw.disconnect());
    const good: Invalidation = { kind: 'session', sessionId: randomUUID() };
    for (const junk of ['not json', '42', '{"m":{"kind":"drop_tables"}}', '{"m":{"kind":"session"}}', '{"m":{"kind":"session","sessionId":7}}']) {
      await raw.publish(ch, junk);
    }
    await raw.publish(ch, JSON.stringify({ o: 'someone-else', m: { ...good, extra: 'ignored' } }));
    await eventually(() => seen.length > 0, 5_000, 'the valid message');
    assert.deepEqual(seen, [good]);
  });

  it('without Redis: publish still delivers locally, never blocks, and the bus reports unhealthy', async () => {
    const errors: unknown[] = [];
    // Port 1 on loopback: nothing listens there.
    const bus = createRedisBus({ url: 'redis://127.0.0.1:1', channel, onError: (e) => errors.push(e) });
    closers.push(() => bus.close());
    const seen: Invalidation[] = [];
    bus.subscribe((m) => seen.push(m));
    assert.equal(await bus.waitUntilReady(300), false);
    assert.equal(bus.isHealthy(), false);
    const message: Invalidation = { kind: 'session', sessionId: randomUUID() };
    await bus.publish(message);
    assert.deepEqual(seen, [message]);
    assert.ok(errors.length > 0, 'the connection failure was reported');
  });

  it('parseInvalidation accepts exactly the documented shapes', () => {
    assert.deepEqual(parseInvalidation({ kind: 'signing_keys', x: 1 }), { kind: 'signing_keys' });
    assert.equal(parseInvalidation({ kind: 'membership', tenantId: 'a' }), null);
    assert.equal(parseInvalidation({ kind: '__proto__' }), null);
    assert.equal(parseInvalidation(null), null);
  });
});
