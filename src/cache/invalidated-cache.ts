import { LRUCache } from 'lru-cache';
import type { Clock } from '../shared/clock.js';
import type { CacheBus } from './invalidation-bus.js';

/** While the bus is down, an entry older than this is treated as a miss. */
export const DEGRADED_TTL_MS = 5_000;
/** A hit in the last fifth of an entry's TTL reloads it in the background (refresh-ahead). */
const REFRESH_AHEAD_FRACTION = 0.2;
/**
 * Background reloads in flight at once, per cache. Entries filled together (a cold start, a
 * deploy) come due for refresh together; unbounded, their reloads would take the pooled
 * connections the requests themselves need (ADR 0030: a wave of membership reloads held a
 * quarter of the busy connections and the reservation list queued behind it for a second).
 * A hit that finds no free slot serves its entry and leaves the reload to a later hit; an entry
 * nobody reloads in time expires and its next request loads it, as without refresh-ahead.
 */
const MAX_BACKGROUND_REFRESHES = 2;

export interface InvalidatedCache<V extends object> {
  get(key: string): V | undefined;
  /** Like `get` for an entry this request has already looked up: not counted as a lookup. */
  peek(key: string): V | undefined;
  /**
   * Read-through. A miss runs `load()`; concurrent misses of one key share that load. The
   * result is cached unless an invalidation of the key arrived while it ran (the value may
   * predate that write); `undefined` means "no such thing" and is not cached. A hit near the
   * end of its TTL is returned at once and reloaded in the background, so a key in use does
   * not expire and miss.
   */
  getOrLoad(key: string, load: () => Promise<V | undefined>): Promise<V | undefined>;
  set(key: string, value: V): void;
  delete(key: string): void;
  /** Deletes every entry whose value matches (e.g. all sessions of one user). */
  deleteWhere(match: (key: string, value: V) => boolean): void;
  clear(): void;
}

interface Flight<V> {
  readonly promise: Promise<V | undefined>;
  /** Set by an invalidation while the load runs: its result must not be cached. */
  stale: boolean;
}

/**
 * An in-process LRU with TTL whose correctness relies on bus invalidations. When the bus
 * reports itself unhealthy, invalidations from other instances may be lost, so entries fall
 * back to a short TTL (DEGRADED_TTL_MS): staleness stays bounded by seconds, not by the TTL.
 * A `kind: 'all'` invalidation (the bus lost messages) drops every entry.
 */
export function createInvalidatedCache<V extends object>(opts: {
  bus: CacheBus;
  clock: Clock;
  max: number;
  ttlSeconds: number;
  onLookup?: (result: 'hit' | 'miss') => void;
  /** Source of the TTL spread, 0–1 (default Math.random; 0.5 means exactly `ttlSeconds`). */
  random?: () => number;
  /** Background reloads in flight at once (default MAX_BACKGROUND_REFRESHES). */
  maxBackgroundRefreshes?: number;
}): InvalidatedCache<V> {
  const maxRefreshes = opts.maxBackgroundRefreshes ?? MAX_BACKGROUND_REFRESHES;
  let refreshing = 0;
  const random = opts.random ?? Math.random;
  const ttlMs = opts.ttlSeconds * 1000;
  // TTLs run on the injected clock, like every other time rule (tests drive it by hand).
  // (ttlResolution 0: lru-cache would otherwise reuse one reading of the clock for 1 ms.)
  const lru = new LRUCache<string, { value: V; at: number; refreshAt: number }>({
    max: opts.max,
    ttl: ttlMs,
    ttlResolution: 0,
    perf: { now: () => opts.clock.now() },
  });
  // Loads in flight, one per key. An invalidation marks them stale and forgets them, so a
  // request that comes after the invalidation starts a fresh load instead of joining one.
  const flights = new Map<string, Flight<V>>();

  function lookup(key: string) {
    let entry = lru.get(key);
    if (entry && !opts.bus.isHealthy() && opts.clock.now() - entry.at > DEGRADED_TTL_MS) {
      lru.delete(key);
      entry = undefined;
    }
    opts.onLookup?.(entry ? 'hit' : 'miss');
    return entry;
  }

  function startLoad(key: string, load: () => Promise<V | undefined>): Flight<V> {
    const flight: Flight<V> = {
      stale: false,
      promise: load().then(
        (value) => {
          if (flights.get(key) === flight) flights.delete(key);
          if (!flight.stale) {
            // "No such thing" (a revoked session, say) also removes what a refresh replaced.
            if (value === undefined) lru.delete(key);
            else cache.set(key, value);
          }
          return value;
        },
        (err: unknown) => {
          if (flights.get(key) === flight) flights.delete(key);
          throw err;
        },
      ),
    };
    flights.set(key, flight);
    return flight;
  }

  function forgetFlights(only?: string): void {
    for (const [key, flight] of flights) {
      if (only !== undefined && key !== only) continue;
      flight.stale = true;
      flights.delete(key);
    }
  }

  const cache: InvalidatedCache<V> = {
    get: (key) => lookup(key)?.value,
    peek(key) {
      const entry = lru.peek(key);
      return entry && (opts.bus.isHealthy() || opts.clock.now() - entry.at <= DEGRADED_TTL_MS) ? entry.value : undefined;
    },
    async getOrLoad(key, load) {
      const hit = lookup(key);
      if (hit) {
        if (opts.clock.now() >= hit.refreshAt && !flights.has(key) && refreshing < maxRefreshes) {
          // A failed refresh changes nothing: the entry simply expires as it would have.
          refreshing += 1;
          startLoad(key, load)
            .promise.catch(() => {})
            .finally(() => (refreshing -= 1));
        }
        return hit.value;
      }
      return (flights.get(key) ?? startLoad(key, load)).promise;
    },
    set(key, value) {
      // TTL spread over ±10 %: entries filled together (a cold start, a deploy) do not all
      // expire in the same instant and send one wave of reads to the database.
      const at = opts.clock.now();
      const ttl = Math.round(ttlMs * (0.9 + 0.2 * random()));
      lru.set(key, { value, at, refreshAt: at + ttl * (1 - REFRESH_AHEAD_FRACTION) }, { ttl });
    },
    delete(key) {
      forgetFlights(key);
      lru.delete(key);
    },
    deleteWhere(match) {
      // Loads in flight have no value to match yet: all of them are treated as matching.
      forgetFlights();
      for (const [key, entry] of lru.entries()) if (match(key, entry.value)) lru.delete(key);
    },
    clear() {
      forgetFlights();
      lru.clear();
    },
  };
  opts.bus.subscribe((m) => {
    if (m.kind === 'all') cache.clear();
  });
  return cache;
}
