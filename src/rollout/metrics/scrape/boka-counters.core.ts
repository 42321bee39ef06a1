import { estimateQuantileFromCumulative } from './histogram.core.js';
import { sumSamples, type PromSample } from './prom-text.core.js';
import type { SourceWindow } from '../metric-source.js';

/**
 * The Boka counters one scrape yields, summed over a color's instances. Names and label values
 * are the ones `src/ops/metrics.ts` registers (docs/operations.md, "Metrics").
 */
export interface BokaCounters {
  /**
   * `boka_http_requests_total` outside the operational routes (health, metrics), without the
   * client-controlled answers (4xx): the denominator of the error, DB-error and latency rules.
   */
  readonly requests: number;
  readonly requests5xx: number;
  /** The requests that can yield an authentication failure: every `/api/…` route but health, 4xx included. */
  readonly apiRequests: number;
  /** Connection, pool-wait and timeout failures only (`DB_ERRORS_JUDGED`). */
  readonly dbErrors: number;
  readonly sessionsTotal: number;
  readonly sessionsFailed: number;
  /** Token failures only (`AUTH_FAILURES_JUDGED`). */
  readonly authFailures: number;
  /** Cumulative buckets of `boka_http_request_duration_seconds` (same requests as `requests`), keyed by `le`. */
  readonly durationBuckets: Readonly<Record<string, number>>;
}

type Labels = Readonly<Record<string, string>>;

/**
 * The controller's own scrapes and health probes hit `/metrics` and `/api/health/*` on every
 * evaluation; counting them would dilute green's rates with the observer's traffic.
 */
function isOperational(labels: Labels): boolean {
  const route = labels.route ?? '';
  return route === '/metrics' || route === '/api/health' || route.startsWith('/api/health/');
}

/**
 * A 4xx is the answer to what the client sent (docs/rollout.md, "What the client controls"),
 * so it is not judged: an anonymous client can produce any number of them on either color.
 * The router's edge stats apply the same rule (`isClientControlled` in window-stats.core.ts).
 */
function isClientControlled(labels: Labels): boolean {
  return (labels.status_code ?? '').startsWith('4');
}

/**
 * Which `boka_auth_failures_total{reason}` values count toward `auth_failure_rate`: failures of
 * a credential Boka itself issued and verified as authentic (`expired`, `revoked`), where a
 * green that mishandles sessions or revocation shows up. `missing`, `invalid` (garbage, forged
 * or unparsable tokens) and the login outcomes (`invalid_credentials`, `locked`, `mfa_failed`)
 * only say what the client sent, so any anonymous client can produce them at will.
 */
export const AUTH_FAILURES_JUDGED: ReadonlySet<string> = new Set(['expired', 'revoked']);

/**
 * `boka_sessions_created_total{result}` is `ok` or `error` (the `session.created` event);
 * anything but `ok` is a failed creation.
 */
const SESSION_OK = 'ok';

/**
 * Which `boka_db_errors_total{kind}` values count toward `db_error_rate` (src/ops/instrumented-database.ts
 * sorts failures into `connection`, `pool_wait`, `timeout`, `constraint`, `query`). A rollout
 * judges the infrastructure: a lost connection, an exhausted pool or a timeout. `constraint` is
 * a 409 the client caused (a double booking) and `query` a bug the other rules already see as 5xx.
 */
export const DB_ERRORS_JUDGED: ReadonlySet<string> = new Set(['connection', 'pool_wait', 'timeout']);

/**
 * Reads Boka's metric names out of one scrape.
 *
 * `boka_auth_failures_total` counts token failures (`missing`/`invalid`/`expired`/`revoked`,
 * emitted by the request pipeline on any signed-in route) and login failures
 * (`invalid_credentials`/`locked`/`mfa_failed`, on `/api/auth/login` and MFA completion), so
 * its denominator is every API request, not only `/api/auth/*`.
 */
export function readBokaCounters(samples: readonly PromSample[]): BokaCounters {
  const buckets: Record<string, number> = {};
  for (const s of samples) {
    if (s.name === 'boka_http_request_duration_seconds_bucket' && s.labels.le !== undefined && !isOperational(s.labels) && !isClientControlled(s.labels)) {
      buckets[s.labels.le] = (buckets[s.labels.le] ?? 0) + s.value;
    }
  }
  const served = (l: Labels) => !isOperational(l);
  const judged = (l: Labels) => served(l) && !isClientControlled(l);
  return {
    requests: sumSamples(samples, 'boka_http_requests_total', judged),
    requests5xx: sumSamples(samples, 'boka_http_requests_total', (l) => served(l) && (l.status_code ?? '').startsWith('5')),
    apiRequests: sumSamples(samples, 'boka_http_requests_total', (l) => served(l) && (l.route ?? '').startsWith('/api/')),
    dbErrors: sumSamples(samples, 'boka_db_errors_total', (l) => DB_ERRORS_JUDGED.has(l.kind ?? '')),
    sessionsTotal: sumSamples(samples, 'boka_sessions_created_total'),
    sessionsFailed: sumSamples(samples, 'boka_sessions_created_total', (l) => l.result !== SESSION_OK),
    authFailures: sumSamples(samples, 'boka_auth_failures_total', (l) => AUTH_FAILURES_JUDGED.has(l.reason ?? '')),
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
    apiRequests: a.apiRequests + b.apiRequests,
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
    const apiRequests = increase(later.apiRequests, earlier.apiRequests);
    if (apiRequests > 0) {
      metrics.auth_failure_rate = { value: Math.min(1, increase(later.authFailures, earlier.authFailures) / apiRequests), samples: apiRequests };
    }
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
