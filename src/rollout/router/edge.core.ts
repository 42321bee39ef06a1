import type { Color } from '../decision.types.js';

/** What the router knows of one upstream: `unknown` until its first check, then what checks and traffic showed. */
export type HealthStatus = 'unknown' | 'healthy' | 'unhealthy';

export interface UpstreamHealth {
  readonly status: HealthStatus;
  /** Epoch ms of the last status change (null while unknown). */
  readonly since: number | null;
  readonly lastCheckAt: number | null;
  /** Successful checks in a row since the last failure. */
  readonly consecutiveOk: number;
  /** Failed checks in a row since the last success. */
  readonly consecutiveFailed: number;
  /** Why the last check or request failed, or null. */
  readonly detail: string | null;
}

export const UNKNOWN_HEALTH: UpstreamHealth = { status: 'unknown', since: null, lastCheckAt: null, consecutiveOk: 0, consecutiveFailed: 0, detail: null };

/**
 * One observation of an upstream. `hard`: the connection itself failed (refused, reset,
 * unreachable), from a check or from live traffic: nothing is listening, so it ejects at once.
 * A soft failure (a check that timed out or answered non-2xx: a draining instance, or a busy
 * database shared by both colors) ejects only after `unhealthyAfter` in a row, so a load spike
 * does not eject every instance at once and pile the traffic onto what is left.
 */
export type HealthObservation = { readonly ok: true } | { readonly ok: false; readonly hard: boolean };

export interface HealthThresholds {
  /** Passing checks in a row before an ejected upstream gets traffic again. */
  readonly healthyAfter: number;
  /** Soft failures in a row before an upstream is ejected. */
  readonly unhealthyAfter: number;
}

/**
 * One observation applied to an upstream's health. Coming back takes `healthyAfter` passes in a
 * row, so an upstream that flaps is not handed traffic between two failures; the first pass of
 * an unknown upstream is enough, as it has never failed.
 */
export function recordHealth(previous: UpstreamHealth, observed: HealthObservation, at: number, detail: string | null, thresholds: HealthThresholds): UpstreamHealth {
  if (!observed.ok) {
    const consecutiveFailed = previous.consecutiveFailed + 1;
    const eject = previous.status === 'unhealthy' || observed.hard || consecutiveFailed >= thresholds.unhealthyAfter;
    const status: HealthStatus = eject ? 'unhealthy' : previous.status;
    return { status, since: status === previous.status ? previous.since : at, lastCheckAt: at, consecutiveOk: 0, consecutiveFailed, detail };
  }
  const consecutiveOk = previous.consecutiveOk + 1;
  const healthy = previous.status !== 'unhealthy' || consecutiveOk >= thresholds.healthyAfter;
  const status: HealthStatus = healthy ? 'healthy' : 'unhealthy';
  return { status, since: status === previous.status ? previous.since : at, lastCheckAt: at, consecutiveOk, consecutiveFailed: 0, detail: healthy ? null : previous.detail };
}

/** An upstream gets traffic unless it is known to be down. */
export function isRoutable(health: UpstreamHealth): boolean {
  return health.status !== 'unhealthy';
}

/** A color's health as one word: healthy when any upstream is, unhealthy when all are. */
export function summarizeHealth(upstreams: readonly UpstreamHealth[]): HealthStatus {
  if (upstreams.some((u) => u.status === 'healthy')) return 'healthy';
  if (upstreams.every((u) => u.status === 'unhealthy')) return 'unhealthy';
  return 'unknown';
}

/**
 * The color a request goes to: the sticky choice, unless that color has no routable upstream
 * and the other one has; then its share goes to the other color until it recovers. With
 * neither routable the sticky choice stands (the client gets that color's 503).
 */
export function routeColor(preferred: Color, routable: Readonly<Record<Color, boolean>>): Color {
  const other: Color = preferred === 'green' ? 'blue' : 'green';
  return !routable[preferred] && routable[other] ? other : preferred;
}

/** Upstream answers that mean "this color could not serve it" (RFC 9110 §15.6.3-5), worth one retry elsewhere. */
export const RETRY_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

/** Largest request body buffered so that an idempotent request can be sent a second time. */
export const RETRY_BODY_LIMIT = 64 * 1024;

type Headers = Readonly<Record<string, string | string[] | undefined>>;

/**
 * Whether a request may be sent to the other color after a failure: safe methods
 * (RFC 9110 §9.2.2: GET, HEAD, OPTIONS), or a request with an `Idempotency-Key`
 * (draft-ietf-httpapi-idempotency-key-header), whose replay the application makes safe.
 * A body must be small enough to buffer (a declared Content-Length of at most
 * RETRY_BODY_LIMIT); a chunked or larger body is streamed once and never retried.
 * Returns how to treat the body, or null for "no retry".
 */
export function retryPlan(method: string | undefined, headers: Headers): { readonly bufferBody: boolean } | null {
  const safe = method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
  const keyed = typeof headers['idempotency-key'] === 'string' && headers['idempotency-key'] !== '';
  if (!safe && !keyed) return null;
  if (headers['transfer-encoding'] !== undefined) return null;
  const length = headers['content-length'];
  if (length === undefined || length === '0') return { bufferBody: false };
  const bytes = Number(length);
  if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes > RETRY_BODY_LIMIT) return null;
  return { bufferBody: true };
}
