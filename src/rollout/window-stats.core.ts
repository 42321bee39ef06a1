/**
 * Sliding-window request statistics: per-second slots holding status-class counts and a
 * log-scale latency histogram, so memory is bounded by the retention and not by the request
 * rate, and p95 is exact to one histogram bucket (about 10 %). Time is always passed in.
 */

/** Upper bounds (ms) of the latency buckets: ~10 % apart from 1 ms to ~60 s, then +Inf. */
const LATENCY_BOUNDS_MS: readonly number[] = (() => {
  const bounds: number[] = [];
  for (let b = 1; b < 60_000; b = Math.max(b + 1, Math.round(b * 1.1))) bounds.push(b);
  bounds.push(Number.POSITIVE_INFINITY);
  return bounds;
})();

/**
 * Whether the client, not the color, decided this outcome (docs/rollout.md, "What the client
 * controls"): any 4xx, which is the answer to what was sent (malformed, unauthenticated,
 * unknown path, wrong method, too large, throttled, …), and the router's 499 for a client
 * that hung up. Such answers are kept for display but are not judged: they count neither in
 * `requests` (the denominator of every rate and of `minSamples`) nor in the latency quantiles.
 * An attacker can produce them at will on either color, so they may neither trip a rollback
 * nor dilute a real regression.
 */
export function isClientControlled(status: number): boolean {
  return status >= 400 && status < 500;
}

interface Slot {
  second: number;
  requests: number;
  clientControlled: number;
  byClass: [number, number, number, number, number];
  latency: number[];
}

export interface WindowSummary {
  /** Judged requests: every answer except the client-controlled ones. */
  readonly requests: number;
  /** 4xx and 499 answers, shown but never judged (`isClientControlled`). */
  readonly clientControlled: number;
  readonly status2xx: number;
  readonly status3xx: number;
  /** Included in `clientControlled`. */
  readonly status4xx: number;
  /** 5xx answers, including the router's own 503/504 when the color could not answer. */
  readonly status5xx: number;
  readonly errorRate: number | null;
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  readonly p99Ms: number | null;
}

export interface WindowStats {
  record(at: number, status: number, latencyMs: number): void;
  summarize(now: number, windowMs: number): WindowSummary;
}

/** Finds the bucket index for a latency by binary search over the bounds. */
function findBucket(latencyMs: number): number {
  let lo = 0;
  let hi = LATENCY_BOUNDS_MS.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (latencyMs <= (LATENCY_BOUNDS_MS[mid] ?? Infinity)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Estimates the q-quantile from bucket counts, interpolating linearly inside the bucket.
 * `bounds` are the buckets' upper bounds (the router's by default; the simulator passes its own).
 */
export function estimateQuantile(counts: readonly number[], q: number, bounds: readonly number[] = LATENCY_BOUNDS_MS): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i] ?? 0;
    if (c > 0 && seen + c >= rank) {
      const lower = i === 0 ? 0 : (bounds[i - 1] ?? 0);
      const upper = bounds[i] ?? lower;
      if (!Number.isFinite(upper)) return lower;
      return lower + ((upper - lower) * (rank - seen)) / c;
    }
    seen += c;
  }
  return bounds[bounds.length - 2] ?? null;
}

/** Creates a ring of one-second slots covering `retainMs`. */
export function createWindowStats(retainMs = 15 * 60_000): WindowStats {
  const size = Math.ceil(retainMs / 1000) + 1;
  const slots: (Slot | undefined)[] = new Array<Slot | undefined>(size);

  function slotFor(second: number): Slot {
    const index = second % size;
    let slot = slots[index];
    if (!slot || slot.second !== second) {
      slot = { second, requests: 0, clientControlled: 0, byClass: [0, 0, 0, 0, 0], latency: new Array<number>(LATENCY_BOUNDS_MS.length).fill(0) };
      slots[index] = slot;
    }
    return slot;
  }

  return {
    record(at, status, latencyMs) {
      const slot = slotFor(Math.floor(at / 1000));
      const cls = Math.min(Math.max(Math.floor(status / 100) - 1, 0), 4);
      slot.byClass[cls] = (slot.byClass[cls] ?? 0) + 1;
      if (isClientControlled(status)) {
        slot.clientControlled++;
        return;
      }
      slot.requests++;
      const bucket = findBucket(latencyMs);
      slot.latency[bucket] = (slot.latency[bucket] ?? 0) + 1;
    },
    summarize(now, windowMs) {
      const last = Math.floor(now / 1000);
      const first = Math.floor((now - windowMs) / 1000) + 1;
      const byClass = [0, 0, 0, 0, 0];
      const latency = new Array<number>(LATENCY_BOUNDS_MS.length).fill(0);
      let requests = 0;
      let clientControlled = 0;
      for (const slot of slots) {
        if (!slot || slot.second < first || slot.second > last) continue;
        requests += slot.requests;
        clientControlled += slot.clientControlled;
        slot.byClass.forEach((c, i) => (byClass[i] = (byClass[i] ?? 0) + c));
        slot.latency.forEach((c, i) => (latency[i] = (latency[i] ?? 0) + c));
      }
      const s5 = byClass[4] ?? 0;
      return {
        requests,
        clientControlled,
        status2xx: byClass[1] ?? 0,
        status3xx: byClass[2] ?? 0,
        status4xx: byClass[3] ?? 0,
        status5xx: s5,
        errorRate: requests > 0 ? s5 / requests : null,
        p50Ms: estimateQuantile(latency, 0.5),
        p95Ms: estimateQuantile(latency, 0.95),
        p99Ms: estimateQuantile(latency, 0.99),
      };
    },
  };
}
