import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import type { CacheBus, Invalidation } from '../../src/cache/invalidation-bus.js';

/**
 * The one behaviour every CacheBus implementation must have (STYLE.md: one shared suite per
 * port). `connectPeer` is given only for transports that reach other instances.
 */
export interface CacheBusFactory {
  create(): Promise<CacheBus>;
  /** A second bus on the same transport, as another instance would open it. */
  connectPeer?: () => Promise<CacheBus>;
}

const ALL_KINDS: Invalidation[] = [
  { kind: 'session', sessionId: randomUUID() },
  { kind: 'user_sessions', userId: randomUUID() },
  { kind: 'membership', tenantId: randomUUID(), userId: randomUUID() },
  { kind: 'user', userId: randomUUID() },
  { kind: 'api_key', keyId: randomUUID() },
  { kind: 'tenant', tenantId: randomUUID() },
  { kind: 'signing_keys' },
];

/** Resolves when `predicate` holds, polling; rejects after `ms` (a bound, not a timing claim). */
export async function eventually(predicate: () => boolean, ms = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function runCacheBusSuite(name: string, factory: CacheBusFactory): void {
  describe(`CacheBus contract: ${name}`, () => {
    const open: CacheBus[] = [];
    const track = async (p: Promise<CacheBus>) => {
      const bus = await p;
      open.push(bus);
      return bus;
    };
    after(async () => {
      for (const bus of open) await bus.close();
    });

    it('delivers to every local subscriber before publish resolves', async () => {
      const bus = await track(factory.create());
      const a: Invalidation[] = [];
      const b: Invalidation[] = [];
      bus.subscribe((m) => a.push(m));
      bus.subscribe((m) => b.push(m));
      for (const m of ALL_KINDS) await bus.publish(m);
      assert.deepEqual(a, ALL_KINDS);
      assert.deepEqual(b, ALL_KINDS);
    });

    it('reports healthy while its transport is up', async () => {
      const bus = await track(factory.create());
      await eventually(() => bus.isHealthy(), 5_000, 'healthy');
      assert.equal(bus.isHealthy(), true);
    });

    it('stops delivering after close', async () => {
      const bus = await factory.create();
      const seen: Invalidation[] = [];
      bus.subscribe((m) => seen.push(m));
      await bus.close();
      await bus.publish({ kind: 'signing_keys' }).catch(() => {});
      assert.deepEqual(seen, []);
    });

    it('reaches subscribers of other instances, once each, and never echoes to the sender', { skip: factory.connectPeer ? false : `${name} is single-instance by design` }, async () => {
      const a = await track(factory.create());
      const b = await track(factory.connectPeer!());
      await eventually(() => a.isHealthy() && b.isHealthy(), 5_000, 'both buses healthy');
      const onA: Invalidation[] = [];
      const onB: Invalidation[] = [];
      a.subscribe((m) => onA.push(m));
      b.subscribe((m) => onB.push(m));
      for (const m of ALL_KINDS) await a.publish(m);
      await eventually(() => onB.length >= ALL_KINDS.length, 5_000, 'delivery to the peer');
      assert.deepEqual(onB, ALL_KINDS);
      // A marker from the peer arrives after any echo of A's own messages would have.
      const marker: Invalidation = { kind: 'user', userId: randomUUID() };
      await b.publish(marker);
      await eventually(() => onA.some((m) => m.kind === 'user' && m.userId === marker.userId), 5_000, 'marker');
      assert.deepEqual(onA, [...ALL_KINDS, marker]);
      assert.deepEqual(onB, [...ALL_KINDS, marker]);
    });
  });
}
