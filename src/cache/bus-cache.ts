import { LRUCache } from 'lru-cache';
import type { Clock } from '../shared/clock.js';
import type { CacheBus } from './cache-bus.js';

/** While the bus is down, an entry older than this is treated as a miss. */
export const DEGRADED_TTL_MS = 5_000;

export interface BusCache<V extends object> {
  get(key: string): V | undefined;
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
  return {
    get(key) {
      let entry = lru.get(key);
      if (entry && !opts.bus.isHealthy() && opts.clock.now() - entry.at > DEGRADED_TTL_MS) {
        lru.delete(key);
        entry = undefined;
      }
      opts.onLookup?.(entry ? 'hit' : 'miss');
      return entry?.value;
    },
    set(key, value) {
      lru.set(key, { value, at: opts.clock.now() });
    },
    delete(key) {
      lru.delete(key);
    },
    deleteWhere(match) {
      for (const [key, entry] of lru.entries()) if (match(key, entry.value)) lru.delete(key);
    },
    clear() {
      lru.clear();
    },
  };
}
