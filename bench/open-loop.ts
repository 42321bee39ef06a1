/**
 * Open-loop HTTP load: requests arrive at a fixed average rate (Poisson arrivals) over a fixed
 * set of kept-alive connections, whether or not earlier ones were answered, the way independent
 * users arrive. Latency is measured from each request's scheduled arrival, so a stalled server
 * is charged for the requests that queued behind the stall (no coordinated omission).
 *
 * Why not autocannon's `overallRate`: it paces every connection with its own timer, all started
 * at the same instant, so 1 000 connections at 4 req/s each arrive as bursts of 1 000
 * simultaneous requests every 250 ms, and the result measures the burst, not the rate.
 */
import { Client } from 'undici';

export interface OpenLoopOptions {
  origin: string;
  connections: number;
  /** Average arrivals per second. */
  rate: number;
  durationSeconds: number;
  /** The i-th request (0-based); `route` groups latencies in `byRoute`. */
  request(i: number): { path: string; headers: Record<string, string>; route?: string };
}

export interface OpenLoopResult {
  rate: number;
  sent: number;
  completed: number;
  /** Completed per second over the phase. */
  throughput: number;
  errors: number;
  non2xx: number;
  /** Non-2xx answers by status code, e.g. { 429: 12 }. */
  non2xxByStatus: Record<number, number>;
  latencyMs: { p50: number; p90: number; p95: number; p99: number; max: number };
  /** p99 and max per `route` (answered requests only), to tell which route makes a tail. */
  byRoute: Record<string, { count: number; p99: number; max: number }>;
}

const percentile = (sorted: Float64Array, p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

export async function runOpenLoop(opts: OpenLoopOptions): Promise<OpenLoopResult> {
  const clients = Array.from({ length: opts.connections }, () => new Client(opts.origin, { pipelining: 1, keepAliveTimeout: 60_000 }));
  // Open every connection before the clock starts: the phase measures requests, not handshakes.
  await Promise.all(clients.map((c) => c.request({ path: '/api/health', method: 'GET' }).then((r) => r.body.dump())));

  // Every request sent gets a latency: answered, failed (time to the failure) or, if still
  // unanswered when the phase gives up, the time it had waited by then.
  const latencies: number[] = [];
  const routeLatencies = new Map<string, number[]>();
  let completed = 0;
  let lastCompletion = 0;
  let sent = 0;
  let errors = 0;
  let non2xx = 0;
  const non2xxByStatus: Record<number, number> = {};
  let closing = false;
  const inFlight = new Set<{ done: Promise<void>; scheduledAt: number }>();
  const start = performance.now();
  const end = start + opts.durationSeconds * 1000;
  let nextArrival = start;

  const fire = (scheduledAt: number) => {
    const i = sent++;
    const { path, headers, route } = opts.request(i);
    const request = clients[i % clients.length]!
      .request({ path, method: 'GET', headers })
      .then(async (res) => {
        await res.body.dump();
        if (res.statusCode < 200 || res.statusCode > 299) {
          non2xx++;
          non2xxByStatus[res.statusCode] = (non2xxByStatus[res.statusCode] ?? 0) + 1;
        }
        completed++;
        lastCompletion = performance.now();
      })
      .catch(() => {
        if (!closing) errors++; // requests destroyed at the end are counted as unanswered below
      });
    const done = request.finally(() => {
      inFlight.delete(entry);
      if (closing) return;
      const latency = performance.now() - scheduledAt;
      latencies.push(latency);
      if (route !== undefined) {
        const list = routeLatencies.get(route) ?? [];
        list.push(latency);
        routeLatencies.set(route, list);
      }
    });
    const entry = { done, scheduledAt };
    inFlight.add(entry);
  };

  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (nextArrival <= now && nextArrival < end) {
        fire(nextArrival);
        nextArrival += -Math.log(1 - Math.random()) * (1000 / opts.rate);
      }
      if (nextArrival >= end) return resolve();
      setTimeout(tick, Math.max(0, nextArrival - performance.now()));
    };
    tick();
  });
  // Requests still queued are waited for (bounded), so a slow tail is counted, not dropped.
  let drainTimer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.all([...inFlight].map((f) => f.done)), new Promise((r) => (drainTimer = setTimeout(r, 10_000)))]);
  clearTimeout(drainTimer);
  const givenUpAt = performance.now();
  const unanswered = inFlight.size;
  for (const f of inFlight) latencies.push(givenUpAt - f.scheduledAt);
  closing = true;
  await Promise.all(clients.map((c) => c.destroy()));
  const elapsed = (Math.max(end, lastCompletion) - start) / 1000;

  const sorted = Float64Array.from(latencies).sort();
  const byRoute: OpenLoopResult['byRoute'] = {};
  for (const [route, list] of routeLatencies) {
    const s = Float64Array.from(list).sort();
    byRoute[route] = { count: s.length, p99: percentile(s, 99), max: percentile(s, 100) };
  }
  return {
    rate: opts.rate,
    sent,
    completed,
    throughput: completed / elapsed,
    errors: errors + unanswered,
    non2xx,
    non2xxByStatus,
    latencyMs: {
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      max: percentile(sorted, 100),
    },
    byRoute,
  };
}
