import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Color } from '../decision.types.js';
import type { PoolObserver, UpstreamView } from './color-pool.js';
import type { UpstreamHealth } from './edge.core.js';
import type { EdgeEvents } from './proxy.js';

/** What the gauges read at scrape time. */
export interface RouterGaugeSource {
  readonly greenWeight: number;
  readonly phase: string | null;
  inflight(color: Color): number;
  upstreams(color: Color): readonly UpstreamView[];
}

/**
 * The router's own Prometheus metrics (`GET /metrics` on the admin listener), in a Registry of
 * its own so several routers in one process (tests) never share series. Names are
 * `boka_router_*`; docs/rollout.md "Router" lists them.
 */
export interface RouterMetrics extends PoolObserver, EdgeEvents {
  readonly registry: Registry;
  exposition(): Promise<string>;
  readonly contentType: string;
}

const COLORS: readonly Color[] = ['blue', 'green'];
// Seconds; denser below 250 ms where rollout latency rules usually sit.
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30];

function statusClass(status: number): string {
  if (status === 499) return 'client_closed';
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'other';
}

export function createRouterMetrics(source: () => RouterGaugeSource, onHealthChange?: (color: Color, url: string, next: UpstreamHealth, previous: UpstreamHealth) => void): RouterMetrics {
  const registry = new Registry();
  const registers = [registry];
  const requests = new Counter({
    name: 'boka_router_requests_total',
    help: 'Upstream attempts by color and status class (a retried request counts once per color tried); client_closed is the client hanging up (499).',
    labelNames: ['color', 'class'] as const,
    registers,
  });
  const latency = new Histogram({
    name: 'boka_router_request_duration_seconds',
    help: 'Time from the request reaching the router to the end of the color\'s answer, per attempt.',
    labelNames: ['color'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const upstreamErrors = new Counter({
    name: 'boka_router_upstream_errors_total',
    help: 'Attempts that got no complete answer: connect (refused, reset, unreachable), timeout (no headers in time), body (broken mid-stream).',
    labelNames: ['color', 'kind'] as const,
    registers,
  });
  const retries = new Counter({
    name: 'boka_router_retries_total',
    help: 'Idempotent requests sent again to the other color after a failed connection or a 502/503/504.',
    labelNames: ['from', 'to'] as const,
    registers,
  });
  const ejections = new Counter({
    name: 'boka_router_ejections_total',
    help: 'Upstreams taken out of rotation (failed readiness check or failed connection).',
    labelNames: ['color'] as const,
    registers,
  });
  for (const color of COLORS) {
    ejections.inc({ color }, 0);
    for (const to of COLORS) if (to !== color) retries.inc({ from: color, to }, 0);
  }
  new Gauge({
    name: 'boka_router_green_weight_percent',
    help: 'Share of new clients routed to green (0..100), as last set through the admin API.',
    registers,
    collect() {
      this.set(source().greenWeight);
    },
  });
  new Gauge({
    name: 'boka_router_rollout_phase',
    help: 'Always 1, labelled with the rollout phase the controller last reported ("none" before any).',
    labelNames: ['phase'] as const,
    registers,
    collect() {
      this.reset();
      this.set({ phase: source().phase ?? 'none' }, 1);
    },
  });
  new Gauge({
    name: 'boka_router_inflight_requests',
    help: 'Requests being answered by each color now.',
    labelNames: ['color'] as const,
    registers,
    collect() {
      const s = source();
      for (const color of COLORS) this.set({ color }, s.inflight(color));
    },
  });
  new Gauge({
    name: 'boka_router_upstream_healthy',
    help: '1 when the upstream passes its readiness checks, 0 when it is ejected, -1 before its first check.',
    labelNames: ['color', 'upstream'] as const,
    registers,
    collect() {
      this.reset();
      const s = source();
      for (const color of COLORS) {
        for (const u of s.upstreams(color)) this.set({ color, upstream: u.url }, u.status === 'healthy' ? 1 : u.status === 'unhealthy' ? 0 : -1);
      }
    },
  });

  return {
    registry,
    contentType: registry.contentType,
    exposition: () => registry.metrics(),
    attempt(color, status, latencyMs) {
      requests.inc({ color, class: statusClass(status) });
      latency.observe({ color }, latencyMs / 1000);
    },
    healthChanged(color, url, next, previous) {
      if (next.status === 'unhealthy') ejections.inc({ color });
      onHealthChange?.(color, url, next, previous);
    },
    upstreamError(color, kind) {
      upstreamErrors.inc({ color, kind });
    },
    retry(from, to) {
      retries.inc({ from, to });
    },
  };
}
