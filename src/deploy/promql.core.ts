import { formatDuration } from '../rollout/duration.core.js';
import type { BuiltinMetric } from '../rollout/plan.schema.js';

/**
 * PromQL over Boka's own series (src/ops/metrics.ts), shared by the recording rules, the alerts,
 * the Argo analysis and the dashboard, so the four never disagree on what "error rate" means.
 * The definitions mirror the single-host scrape source (src/rollout/metrics/scrape/boka-counters.core.ts):
 * "requests" leave out `/metrics` and `/api/health*` (probes and scrapes, not the release's traffic).
 */

/** Route filter: every route but the operational ones. */
export const SERVED = 'route!~"/metrics|/api/health(/.*)?"';
/** Routes that can yield an authentication failure: every `/api/…` route but health. */
export const API_SERVED = `route=~"/api/.*",${SERVED}`;

/**
 * Labels the recording rules aggregate away: one series per scraped instance and per request
 * shape. Everything else on the target (job, namespace, a `color` label…) is kept, together with
 * `version`, the label every Boka series carries.
 */
export const INSTANCE_LABELS = ['instance', 'pod', 'container', 'endpoint', 'method', 'route', 'status_code'] as const;

/** A Prometheus duration (`1m`, `1m30s`, `250ms`). */
export function formatPromDuration(ms: number): string {
  return formatDuration(ms);
}

/** Recording-rule name suffix for a window: `1m`, `1m30s`. */
export function windowSuffix(windowMs: number): string {
  return formatPromDuration(windowMs);
}

/**
 * One aggregation: `sum(...)` over everything (Argo, one version selected) or
 * `sum without (instance labels)` (recording rules, one series per version).
 */
export interface Aggregation {
  /** Wraps a vector in the aggregation; `extra` are further labels to drop (e.g. `le` never, `result`). */
  sum(inner: string, extra?: readonly string[]): string;
  /** Same, keeping `le` (histograms). */
  sumKeepLe(inner: string): string;
}

export const TOTAL: Aggregation = {
  sum: (inner) => `sum(${inner})`,
  sumKeepLe: (inner) => `sum by (le) (${inner})`,
};

export const PER_VERSION: Aggregation = {
  sum: (inner, extra = []) => `sum without (${[...INSTANCE_LABELS, ...extra].join(', ')}) (${inner})`,
  sumKeepLe: (inner) => `sum without (${INSTANCE_LABELS.join(', ')}) (${inner})`,
};

/** Dashboards: one series per version, whatever else the targets carry. */
export const BY_VERSION: Aggregation = {
  sum: (inner) => `sum by (version) (${inner})`,
  sumKeepLe: (inner) => `sum by (version, le) (${inner})`,
};

/** `name{sel, extra}` with empty parts left out. */
export function series(name: string, ...matchers: string[]): string {
  const all = matchers.filter(Boolean).join(',');
  return all ? `${name}{${all}}` : name;
}

/**
 * The value of a builtin metric in Prometheus base units (fractions for rates, seconds for p95;
 * `RECORDED[metric].toRecorded` converts a plan threshold), over `window`, for the series
 * `selector` picks.
 * Failure counters without any event yet have no series; `or (denominator * 0)` turns that into
 * a real 0 wherever there was traffic, so "no failures" is never confused with "no data".
 */
export function metricValue(metric: BuiltinMetric, selector: string, windowMs: number, agg: Aggregation): string {
  const w = formatPromDuration(windowMs);
  const requests = agg.sum(`rate(${series('boka_http_requests_total', selector, SERVED)}[${w}])`);
  switch (metric) {
    case 'error_rate':
      // No 5xx yet means no 5xx series at all.
      return `(${agg.sum(`rate(${series('boka_http_requests_total', selector, SERVED, 'status_code=~"5.."')}[${w}])`)} or ${requests} * 0) / ${requests}`;
    case 'p95_latency_ms':
      return `histogram_quantile(0.95, ${agg.sumKeepLe(`rate(${series('boka_http_request_duration_seconds_bucket', selector, SERVED)}[${w}])`)})`;
    case 'db_error_rate':
      return `(${agg.sum(`rate(${series('boka_db_errors_total', selector)}[${w}])`, ['kind'])} or ${requests} * 0) / ${requests}`;
    case 'session_failure_rate': {
      const sessions = agg.sum(`rate(${series('boka_sessions_created_total', selector)}[${w}])`, ['result']);
      const failed = agg.sum(`rate(${series('boka_sessions_created_total', selector, 'result!="ok"')}[${w}])`, ['result']);
      return `(${failed} or ${sessions} * 0) / ${sessions}`;
    }
    case 'auth_failure_rate': {
      const api = agg.sum(`rate(${series('boka_http_requests_total', selector, API_SERVED)}[${w}])`);
      const failures = agg.sum(`rate(${series('boka_auth_failures_total', selector)}[${w}])`, ['reason']);
      return `clamp_max((${failures} or ${api} * 0) / ${api}, 1)`;
    }
  }
}

/** Served requests (the plan's minSamples counts these) in the window. */
export function requestCount(selector: string, windowMs: number, agg: Aggregation): string {
  return agg.sum(`increase(${series('boka_http_requests_total', selector, SERVED)}[${formatPromDuration(windowMs)}])`);
}

/** How each builtin metric is named in recording rules, and its unit there. */
export const RECORDED: Record<BuiltinMetric, { readonly name: string; readonly toRecorded: (threshold: number) => number; readonly unit: 'ratio' | 'seconds' }> = {
  error_rate: { name: 'boka_http_errors:ratio_rate', toRecorded: (t) => t, unit: 'ratio' },
  // Prometheus convention: base units. The plan's threshold is in ms.
  p95_latency_ms: { name: 'boka_http_request_duration_seconds:p95_rate', toRecorded: (t) => t / 1000, unit: 'seconds' },
  db_error_rate: { name: 'boka_db_errors:ratio_rate', toRecorded: (t) => t, unit: 'ratio' },
  session_failure_rate: { name: 'boka_sessions_failed:ratio_rate', toRecorded: (t) => t, unit: 'ratio' },
  auth_failure_rate: { name: 'boka_auth_failures:ratio_rate', toRecorded: (t) => t, unit: 'ratio' },
};

/** `version:<name><window>`, the recording rule for a metric over the plan's window. */
export function recordedName(metric: BuiltinMetric, windowMs: number): string {
  return `version:${RECORDED[metric].name}${windowSuffix(windowMs)}`;
}

export function recordedRequests(windowMs: number): string {
  return `version:boka_http_requests:increase${windowSuffix(windowMs)}`;
}

export function recordedRequestRate(windowMs: number): string {
  return `version:boka_http_requests:rate${windowSuffix(windowMs)}`;
}

/** Prints a number for PromQL or an expression without float noise (0.1 + 0.2 stays readable). */
export function formatNumber(n: number): string {
  return String(Number(n.toPrecision(12)));
}
