import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Database } from '../db/index.js';
import type { EventHub } from '../shared/events.js';

const CACHE_NAMES = ['session', 'membership', 'api_key', 'tenant', 'user', 'user_memberships'] as const;
export type CacheName = (typeof CACHE_NAMES)[number];
/** `pool_wait`: no pooled connection came free in time (saturation); `connection`: the server was lost. */
const DB_ERROR_KINDS = ['connection', 'pool_wait', 'timeout', 'constraint', 'query'] as const;
export type DbErrorKind = (typeof DB_ERROR_KINDS)[number];

/**
 * The instance's Prometheus metrics (prom-client). One Registry per app, not the global one, so
 * several apps in one process (tests) never clash. Every series carries the `version` label the
 * rollout controller compares blue against green by.
 */
export interface Metrics {
  readonly registry: Registry;
  observeHttp(method: string, route: string, statusCode: number, seconds: number): void;
  countCacheLookup(cache: CacheName, result: 'hit' | 'miss'): void;
  observeDbQuery(seconds: number): void;
  countDbError(kind: DbErrorKind): void;
  countApiKeyRequest(result: string): void;
  /** A log line the stdout buffer had no room for (src/ops/log-destination.ts). */
  countLogDrop(): void;
  /** Pool gauge source; set once the (instrumented) database exists. */
  watchPool(db: Pick<Database, 'poolStats'>): void;
  /** Synthetic (probe) users: their events never count in business metrics. */
  markSynthetic(userId: string): void;
  /** Subscribes the auth/session/access counters to domain events. */
  subscribe(events: EventHub): void;
  exposition(): Promise<string>;
  readonly contentType: string;
}

// Latency buckets in seconds, denser below 100 ms where the p99 goal sits.
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const DB_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];

export function createMetrics(opts: { version: string; defaultMetrics?: boolean }): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ version: opts.version });
  const registers = [registry];
  if (opts.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });
    // nodejs_version_info's own `version` label (the Node version) would clash with ours, and
    // the *_total gauges break the naming rules `promtool check metrics` enforces; their
    // per-type siblings (nodejs_active_handles{type} …) carry the same numbers.
    for (const name of ['nodejs_version_info', 'nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      registry.removeSingleMetric(name);
    }
    new Gauge({
      name: 'boka_build_info',
      help: 'Always 1; labels describe the build (version) and the runtime.',
      labelNames: ['node_version'] as const,
      registers,
    }).set({ node_version: process.version }, 1);
  }
  const synthetic = new Set<string>();
  let pool: Pick<Database, 'poolStats'> | null = null;

  const httpRequests = new Counter({
    name: 'boka_http_requests_total',
    help: 'HTTP requests by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers,
  });
  const httpDuration = new Histogram({
    name: 'boka_http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: HTTP_BUCKETS,
    registers,
  });
  const logins = new Counter({
    name: 'boka_auth_logins_total',
    help: 'Password logins by result.',
    labelNames: ['result'] as const,
    registers,
  });
  const sessionsCreated = new Counter({
    name: 'boka_sessions_created_total',
    help: 'Sessions created by result.',
    labelNames: ['result'] as const,
    registers,
  });
  const authFailures = new Counter({
    name: 'boka_auth_failures_total',
    help: 'Authentication failures by reason (missing/invalid/expired/revoked token, invalid_credentials, locked, mfa_failed).',
    labelNames: ['reason'] as const,
    registers,
  });
  const accessDenied = new Counter({
    name: 'boka_access_denied_total',
    help: 'Authorization denials by reason.',
    labelNames: ['reason'] as const,
    registers,
  });
  const sessionsRevoked = new Counter({
    name: 'boka_sessions_revoked_total',
    help: 'Sessions revoked (logout, admin, idle, expiry, refresh reuse).',
    registers,
  });
  const logDrops = new Counter({
    name: 'boka_log_lines_dropped_total',
    help: 'Log lines dropped because stdout did not keep up and the log buffer was full.',
    registers,
  });
  const apiKeyRequests = new Counter({
    name: 'boka_api_key_requests_total',
    help: 'Requests authenticated with an API key, by result.',
    labelNames: ['result'] as const,
    registers,
  });
  const cacheRequests = new Counter({
    name: 'boka_cache_requests_total',
    help: 'In-process cache lookups by cache and result.',
    labelNames: ['cache', 'result'] as const,
    registers,
  });
  new Gauge({
    name: 'boka_db_pool_connections',
    help: 'Database pool connections by state (total, idle, waiting clients).',
    labelNames: ['state'] as const,
    registers,
    collect() {
      if (!pool) return;
      const stats = pool.poolStats();
      this.set({ state: 'total' }, stats.total);
      this.set({ state: 'idle' }, stats.idle);
      this.set({ state: 'waiting' }, stats.waiting);
    },
  });
  const dbErrors = new Counter({
    name: 'boka_db_errors_total',
    help: 'Database errors by kind (connection, pool_wait, timeout, constraint, query).',
    labelNames: ['kind'] as const,
    registers,
  });
  const dbDuration = new Histogram({
    name: 'boka_db_query_duration_seconds',
    help: 'Database query duration (each statement, including inside transactions).',
    buckets: DB_BUCKETS,
    registers,
  });

  // Zero-initialise the known series so rates exist before the first event (and dashboards
  // can tell "no failures" from "no data").
  for (const result of ['hit', 'miss']) {
    for (const cache of CACHE_NAMES) cacheRequests.inc({ cache, result }, 0);
  }
  for (const kind of DB_ERROR_KINDS) dbErrors.inc({ kind }, 0);
  sessionsRevoked.inc(0);

  const isSynthetic = (userId: string | null | undefined) => userId != null && synthetic.has(userId);

  return {
    registry,
    contentType: registry.contentType,
    observeHttp(method, route, statusCode, seconds) {
      const labels = { method, route, status_code: String(statusCode) };
      httpRequests.inc(labels);
      httpDuration.observe(labels, seconds);
    },
    countCacheLookup: (cache, result) => cacheRequests.inc({ cache, result }),
    observeDbQuery: (seconds) => dbDuration.observe(seconds),
    countDbError: (kind) => dbErrors.inc({ kind }),
    countApiKeyRequest: (result) => apiKeyRequests.inc({ result }),
    countLogDrop: () => logDrops.inc(),
    watchPool(db) {
      pool = db;
    },
    markSynthetic(userId) {
      synthetic.add(userId);
    },
    subscribe(events) {
      events.on('auth.login', (e) => {
        if (!isSynthetic(e.userId)) logins.inc({ result: 'success' });
      });
      events.on('auth.login_failed', (e) => {
        if (isSynthetic(e.userId)) return;
        logins.inc({ result: 'failure' });
        authFailures.inc({ reason: e.reason });
      });
      events.on('auth.failure', (e) => authFailures.inc({ reason: e.reason }));
      events.on('session.created', (e) => {
        if (!isSynthetic(e.userId)) sessionsCreated.inc({ result: e.result });
      });
      events.on('session.revoked', (e) => {
        if (!isSynthetic(e.userId)) sessionsRevoked.inc();
      });
      events.on('access.denied', (e) => {
        if (!isSynthetic(e.principal.id)) accessDenied.inc({ reason: e.reason });
      });
    },
    exposition: () => registry.metrics(),
  };
}
