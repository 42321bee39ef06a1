import { estimateQuantileFromCumulative } from './histogram.core.js';
import { sumSamples, type PromSample } from './prom-text.core.js';
import type { SourceWindow } from '../metric-source.js';

/** The Boka counters one scrape yields, summed over a color's instances. */
export interface BokaCounters {
  readonly requests: number;
  readonly requests5xx: number;
  readonly authRouteRequests: number;
  readonly dbErrors: number;
  readonly sessionsTotal: number;
  readonly sessionsFailed: number;
  readonly authFailures: number;
  /** Cumulative histogram buckets of request duration in seconds, keyed by `le`. */
  readonly durationBuckets: Readonly<Record<string, number>>;
}

const SUCCESS_RESULTS = new Set(['success', 'ok', 'created']);

/** Reads Boka's documented metric names out of one scrape. */
export function readBokaCounters(samples: readonly PromSample[]): BokaCounters {
  const buckets: Record<string, number> = {};
  for (const s of samples) {
    if (s.name === 'boka_http_request_duration_seconds_bucket' && s.labels.le !== undefined) {
      buckets[s.labels.le] = (buckets[s.labels.le] ?? 0) + s.value;
    }
  }
  return {
    requests: sumSamples(samples, 'boka_http_requests_total'),
    requests5xx: sumSamples(samples, 'boka_http_requests_total', (l) => (l.status_code ?? '').startsWith('5')),
    authRouteRequests: sumSamples(samples, 'boka_http_requests_total', (l) => (l.route ?? '').startsWith('/api/auth')),
    dbErrors: sumSamples(samples, 'boka_db_errors_total'),
    sessionsTotal: sumSamples(samples, 'boka_sessions_created_total'),
    sessionsFailed: sumSamples(samples, 'boka_sessions_created_total', (l) => !SUCCESS_RESULTS.has(l.result ?? '')),
    authFailures: sumSamples(samples, 'boka_auth_failures_total'),
    durationBuckets: buckets,
  };
}

/** Adds two instances' counters (several upstreams per color). */
export function addCounters(a: BokaCounters, b: BokaCounters): BokaCounters {
  const buckets: Record<string, number> = { ...a.durationBuckets };
  for (const [le, v] of Object.entries(b.durationBuckets)) buckets[le] = (buckets[le] ?? 0) + v;
  return {
    requests: a.requests + b.requests,
    requests5xx: a.requests5xx + b.requests5xx,
    authRouteRequests: a.authRouteRequests + b.authRouteRequests,
    dbErrors: a.dbErrors + b.dbErrors,
    sessionsTotal: a.sessionsTotal + b.sessionsTotal,
    sessionsFailed: a.sessionsFailed + b.sessionsFailed,
    authFailures: a.authFailures + b.authFailures,
    durationBuckets: buckets,
  };
}

/** Counter increase with Prometheus reset semantics: a drop means the process restarted from 0. */
function increase(later: number, earlier: number): number {
  return later >= earlier ? later - earlier : later;
}

/** Turns two scrapes of the same color into a window of rates. */
export function diffCounters(later: BokaCounters, earlier: BokaCounters): SourceWindow {
  const requests = increase(later.requests, earlier.requests);
  const metrics: Record<string, { value: number; samples: number }> = {};
  if (requests > 0) {
    metrics.error_rate = { value: increase(later.requests5xx, earlier.requests5xx) / requests, samples: requests };
    metrics.db_error_rate = { value: increase(later.dbErrors, earlier.dbErrors) / requests, samples: requests };
    const authBase = increase(later.authRouteRequests, earlier.authRouteRequests) || requests;
    metrics.auth_failure_rate = { value: Math.min(1, increase(later.authFailures, earlier.authFailures) / authBase), samples: authBase };
  }
  const sessions = increase(later.sessionsTotal, earlier.sessionsTotal);
  if (sessions > 0) {
    metrics.session_failure_rate = { value: increase(later.sessionsFailed, earlier.sessionsFailed) / sessions, samples: sessions };
  }
  const buckets: Record<string, number> = {};
  for (const [le, v] of Object.entries(later.durationBuckets)) buckets[le] = increase(v, earlier.durationBuckets[le] ?? 0);
  const p95 = estimateQuantileFromCumulative(buckets, 0.95);
  if (p95 !== null && requests > 0) metrics.p95_latency_ms = { value: p95 * 1000, samples: requests };
  return { requests, metrics };
}
