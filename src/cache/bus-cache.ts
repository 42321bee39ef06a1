import { LRUCache } from 'lru-cache';
import type { Clock } from '../shared/clock.js';
import type { CacheBus } from './cache-bus.js';

/** While the bus is down, an entry older than this is treated as a miss. */
export const DEGRADED_TTL_MS = 5_000;

export interface BusCache<V extends object> {
  get(key: string): V | undefined;
  /** Like `get` for an entry this request has already looked up: not counted as a lookup. */
  peek(key: string): V | undefined;
  /**
   * Read-through: a hit, or `load()` whose result is cached unless an invalidation arrived
   * while it ran (the loaded value may predate that write). `undefined` is returned uncached.
   */
  getOrLoad(key: string, load: () => Promise<V | undefined>): Promise<V | undefined>;
  set(key: string, value: V): void;
  delete(key: string): void;
  /** Deletes every entry whose value matches (e.g. all sessions of one user). */
  deleteWhere(match: (key: string, value: V) => boolean): void;
  clear(): void;
}

/**
 * An in-process LRU with TTL whose correctness relies on bus invalidations. When the bus
 * reports itself unhealthy, invalidations from other instances may be lost, so entries fall
 * back to a short TTL (DEGRADED_TTL_MS): staleness stays bounded by seconds, not by the TTL.
 */
export function createBusCache<V extends object>(opts: {
  bus: CacheBus;
  clock: Clock;
  max: number;
  ttlSeconds: number;
  onLookup?: (result: 'hit' | 'miss') => void;
}): BusCache<V> {
  const lru = new LRUCache<string, { value: V; at: number }>({ max: opts.max, ttl: opts.ttlSeconds * 1000 });
  // A load must not fill the cache if an invalidation of its key arrived while it ran. Loads in
  // flight are tracked per key (delete marks them stale); deleteWhere and clear cannot tell
  // which pending keys they match, so they bump an epoch that every pending load checks.
  const pending = new Map<string, Set<{ stale: boolean }>>();
  let epoch = 0;
  const cache: BusCache<V> = {
    get(key) {
      let entry = lru.get(key);
      if (entry && !opts.bus.isHealthy() && opts.clock.now() - entry.at > DEGRADED_TTL_MS) {
        lru.delete(key);
        entry = undefined;
      }
      opts.onLookup?.(entry ? 'hit' : 'miss');
      return entry?.value;
    },
    peek(key) {
      const entry = lru.peek(key);
      return entry && (opts.bus.isHealthy() || opts.clock.now() - entry.at <= DEGRADED_TTL_MS) ? entry.value : undefined;
    },
    async getOrLoad(key, load) {
      const hit = cache.get(key);
      if (hit !== undefined) return hit;
      const started = epoch;
      const ticket = { stale: false };
      const tickets = pending.get(key) ?? new Set();
      pending.set(key, tickets.add(ticket));
      try {
        const value = await load();
        if (value !== undefined && !ticket.stale && started === epoch) cache.set(key, value);
        return value;
      } finally {
        tickets.delete(ticket);
        if (tickets.size === 0) pending.delete(key);
      }
    },
    set(key, value) {
      // TTL spread over ±10 %: entries filled together (a cold start, a deploy) do not all
      // expire in the same instant and send one wave of reads to the database.
      lru.set(key, { value, at: opts.clock.now() }, { ttl: Math.round(opts.ttlSeconds * 1000 * (0.9 + 0.2 * Math.random())) });
    },
    delete(key) {
      for (const ticket of pending.get(key) ?? []) ticket.stale = true;
      lru.delete(key);
    },
    deleteWhere(match) {
      epoch++;
      for (const [key, entry] of lru.entries()) if (match(key, entry.value)) lru.delete(key);
    },
    clear() {
      epoch++;
      lru.clear();
    },
  };
  opts.bus.subscribe((m) => {
    if (m.kind === 'all') cache.clear();
  });
  return cache;
}
