import { secretsEqual } from './constant-time.js';
import { parseBearer } from './credential.js';
import { isLoopbackAddress } from './loopback.js';
import type { OperatorScope } from './policy.js';

/** The configured token of each operator scope; a scope without one is open to loopback callers only. */
export type OperatorTokens = Readonly<Partial<Record<OperatorScope, string>>>;

export type OperatorDecision = { readonly allowed: true } | { readonly allowed: false; readonly message: string };

const WHAT: Record<OperatorScope, { name: string; setting: string }> = {
  metrics: { name: 'The metrics endpoint', setting: 'METRICS_TOKEN' },
  health: { name: 'The deep health check', setting: 'HEALTH_TOKEN' },
  router_admin: { name: "The router's admin API", setting: 'the router admin token' },
};

/**
 * Decides an operator request from the caller's address and headers alone. With a token set,
 * only the token counts (sent as `Authorization: Bearer` or, for ops tools that cannot set
 * Authorization, `X-Operator-Token`; `X-Health-Token` is kept for health); being on loopback
 * is not enough, because a local reverse proxy makes every caller look local.
 */
export function decideOperator(
  scope: OperatorScope,
  caller: { ip: string | undefined | null; headers: Record<string, string | string[] | undefined> },
  tokens: OperatorTokens,
): OperatorDecision {
  const expected = tokens[scope];
  const what = WHAT[scope];
  if (expected !== undefined) {
    const presented = presentedOperatorToken(caller.headers, scope);
    if (presented !== null && secretsEqual(presented, expected)) return { allowed: true };
    return { allowed: false, message: `${what.name} needs ${what.setting}` };
  }
  if (isLoopbackAddress(caller.ip)) return { allowed: true };
  return { allowed: false, message: `${what.name} answers loopback callers only (or set ${what.setting})` };
}

function presentedOperatorToken(headers: Record<string, string | string[] | undefined>, scope: OperatorScope): string | null {
  const bearer = parseBearer(headers.authorization);
  if (bearer) return bearer;
  for (const name of scope === 'health' ? ['x-health-token', 'x-operator-token'] : ['x-operator-token']) {
    const value = headers[name];
    if (typeof value === 'string' && value !== '') return value;
  }
  return null;
}
