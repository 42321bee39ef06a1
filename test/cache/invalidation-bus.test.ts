import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createInProcessBus } from '../../src/cache/in-process-bus.js';
import { createRedisBus, OUTBOX_MAX, parseInvalidation } from '../../src/cache/redis-bus.js';
import { createTcpProxy } from '../ops/helpers/tcp-proxy.js';
import type { Invalidation } from '../../src/cache/invalidation-bus.js';
import { eventually, runCacheBusSuite } from './invalidation-bus.suite.js';

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

runCacheBusSuite('in-process', { create: async () => createInProcessBus() });

if (REDIS_SKIP) {
  describe('CacheBus contract: redis', () => {
    it('runs against a Redis server', { skip: REDIS_SKIP }, () => {});
  });
} else {
  runCacheBusSuite('redis', {
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
    assert.equal(await bus.waitUntilReady(5_000), true);
    const seen: Invalidation[] = []; // from here on (a new subscription itself delivers `all`)
    bus.subscribe((m) => seen.push(m));
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

  // Pub/sub delivers at most once: an outage must not leave stale entries trusted for a TTL.
  async function busBehindProxy() {
    const target = new URL(REDIS_URL);
    const proxy = await createTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    closers.push(() => proxy.close());
    const ch = `boka-test:${randomUUID()}`;
    const cutOff = createRedisBus({ url: `redis://127.0.0.1:${proxy.port}`, channel: ch, onError: () => {} });
    const peer = createRedisBus({ url: REDIS_URL, channel: ch });
    closers.push(() => cutOff.close(), () => peer.close());
    assert.equal(await cutOff.waitUntilReady(5_000), true);
    assert.equal(await peer.waitUntilReady(5_000), true);
    // Collected from here on: each bus's first subscription delivers `all` to itself.
    const seenCutOff: Invalidation[] = [];
    const seenPeer: Invalidation[] = [];
    cutOff.subscribe((m) => seenCutOff.push(m));
    peer.subscribe((m) => seenPeer.push(m));
    return { proxy, cutOff, peer, seenCutOff, seenPeer };
  }

  it('after a dropped subscription, local subscribers are told to drop everything once it is back', async () => {
    const { proxy, cutOff, peer, seenCutOff } = await busBehindProxy();
    proxy.cut('refuse');
    await eventually(() => !cutOff.isHealthy(), 5_000, 'unhealthy while cut off');
    const lost: Invalidation = { kind: 'session', sessionId: randomUUID() };
    await peer.publish(lost); // sent while the cut-off instance cannot hear it
    proxy.restore();
    await eventually(() => cutOff.isHealthy(), 10_000, 'healthy again');
    await eventually(() => seenCutOff.some((m) => m.kind === 'all'), 5_000, 'an `all` invalidation');
    assert.ok(!seenCutOff.some((m) => m.kind === 'session'), 'the lost message itself never arrives');
    // And the subscription works again.
    const next: Invalidation = { kind: 'tenant', tenantId: randomUUID() };
    await peer.publish(next);
    await eventually(() => seenCutOff.some((m) => m.kind === 'tenant'), 5_000, 'the next message');
  });

  it('an instance that starts while Redis is unreachable subscribes once it is back', async () => {
    const target = new URL(REDIS_URL);
    const proxy = await createTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    closers.push(() => proxy.close());
    proxy.cut('refuse');
    const ch = `boka-test:${randomUUID()}`;
    const late = createRedisBus({ url: `redis://127.0.0.1:${proxy.port}`, channel: ch, onError: () => {} });
    closers.push(() => late.close());
    const seen: Invalidation[] = [];
    late.subscribe((m) => seen.push(m));
    assert.equal(await late.waitUntilReady(500), false);
    proxy.restore();
    assert.equal(await late.waitUntilReady(10_000), true);
    await eventually(() => seen.some((m) => m.kind === 'all'), 5_000, 'an `all` for what was cached without a bus');
    const peer = createRedisBus({ url: REDIS_URL, channel: ch });
    closers.push(() => peer.close());
    assert.equal(await peer.waitUntilReady(5_000), true);
    await peer.publish({ kind: 'tenant', tenantId: 't1' });
    await eventually(() => seen.some((m) => m.kind === 'tenant'), 5_000, 'a peer message');
  });

  it('what an instance could not publish reaches its peers when Redis is back, in order', async () => {
    const { proxy, cutOff, seenPeer } = await busBehindProxy();
    proxy.cut('refuse');
    await eventually(() => !cutOff.isHealthy(), 5_000, 'unhealthy while cut off');
    const owed: Invalidation[] = [
      { kind: 'session', sessionId: randomUUID() },
      { kind: 'membership', tenantId: randomUUID(), userId: randomUUID() },
    ];
    for (const m of owed) await cutOff.publish(m);
    assert.deepEqual(seenPeer, []);
    proxy.restore();
    await eventually(() => seenPeer.length === owed.length, 10_000, 'the owed messages');
    assert.deepEqual(seenPeer, owed);
  });

  it(`past ${OUTBOX_MAX} owed messages, peers get one \`all\` instead`, async () => {
    const { proxy, cutOff, seenPeer } = await busBehindProxy();
    proxy.cut('refuse');
    await eventually(() => !cutOff.isHealthy(), 5_000, 'unhealthy while cut off');
    for (let i = 0; i <= OUTBOX_MAX; i++) await cutOff.publish({ kind: 'session', sessionId: `s${i}` });
    proxy.restore();
    await eventually(() => seenPeer.length > 0, 10_000, 'the owed messages');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(seenPeer, [{ kind: 'all' }]);
  });

  it('parseInvalidation accepts exactly the documented shapes', () => {
    assert.deepEqual(parseInvalidation({ kind: 'signing_keys', x: 1 }), { kind: 'signing_keys' });
    assert.equal(parseInvalidation({ kind: 'membership', tenantId: 'a' }), null);
    assert.equal(parseInvalidation({ kind: '__proto__' }), null);
    assert.equal(parseInvalidation(null), null);
  });
});
