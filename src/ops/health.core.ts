/** One post-deployment check's outcome, as served by `GET /api/health/deep`. */
export interface CheckResult {
  readonly status: 'pass' | 'fail';
  readonly durationMs: number;
  readonly error?: string;
}

export type DeepStatus = 'ok' | 'degraded' | 'unhealthy';

/**
 * Checks whose failure only degrades the instance: it still serves correct answers, slower
 * (responseTime) or with shorter cache lifetimes (cacheBus). Any other failure means an auth
 * path is broken, so the instance must not take traffic.
 */
const SOFT_CHECKS = new Set(['responseTime', 'cacheBus']);

export function summarizeChecks(checks: Readonly<Record<string, CheckResult>>): DeepStatus {
  let status: DeepStatus = 'ok';
  for (const [name, check] of Object.entries(checks)) {
    if (check.status === 'pass') continue;
    if (!SOFT_CHECKS.has(name)) return 'unhealthy';
    status = 'degraded';
  }
  return status;
}

export type ReadinessReason = 'draining' | 'database_unreachable' | 'migrations_pending';

/** Readiness from its inputs: empty exactly when the instance is ready, else the first reason. */
export function readinessReasons(input: {
  draining: boolean;
  databaseOk: boolean;
  migrations: { current: number; latest: number } | null;
}): ReadinessReason[] {
  // A draining instance is not asked anything else: it is leaving whatever the database says.
  if (input.draining) return ['draining'];
  if (!input.databaseOk) return ['database_unreachable'];
  if (!input.migrations || input.migrations.current < input.migrations.latest) return ['migrations_pending'];
  return [];
}
