import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors/index.js';
import { requestMeta } from '../http/request-meta.js';
import type { EventHub } from '../shared/events.js';
import { isCanonicalUuid } from '../shared/ids.js';
import { authorize, type Decision } from './authorize.core.js';
import { extractCredential } from './credential.js';
import { decideOperator, type OperatorTokens } from './operator.core.js';
import type { AccessPolicy, AuthContext, RateLimitClass } from './policy.js';
import { actingUserId, describePrincipal, type Principal } from './principal.js';
import { authenticate, type AuthStrategy } from './strategy.js';
import type { TenantRoleLookup } from './tenant-roles.js';

/**
 * The port for a later step of the pipeline (rate limiting, MFA policy, superadmin audit): run
 * after authorization with the route's policy and the auth context (null on public and
 * operator routes). Throw an AppError to refuse.
 */
export type PipelineStep = (request: FastifyRequest, auth: AuthContext | null, policy: AccessPolicy) => Promise<void>;

/** One registered route with its declared policy and rate-limit class; tests walk this to cover every route. */
export interface RouteEntry {
  readonly method: string;
  readonly url: string;
  readonly access: AccessPolicy;
  readonly rateLimit: RateLimitClass;
}

const routeTables = new WeakMap<FastifyInstance, RouteEntry[]>();

/** Every route registered on `app` with its access policy (HEAD routes excluded). */
export function listRoutes(app: FastifyInstance): readonly RouteEntry[] {
  return routeTables.get(app) ?? [];
}

const FAILURE_REASON = { missing_authorization: 'missing', token_expired: 'expired' } as const;

type Denial = { reason: 'tenant_mismatch' | 'insufficient_permissions' | 'forbidden'; required: string | null; role: string | null };

/**
 * The one request pipeline, in order: credential extraction → strategy (JWT, API key) →
 * Principal → tenant standing through the role lookup → `authorize()` → the later steps
 * (rate limit, MFA policy, superadmin audit). Operator routes check their token or loopback
 * instead. It runs in `onRequest`, before any body is parsed, so an anonymous client cannot
 * make the server parse a body on a protected route. Routes without a policy are refused at
 * registration.
 */
export function installPipeline(
  app: FastifyInstance,
  deps: {
    strategies: readonly AuthStrategy[];
    tenantRoles: TenantRoleLookup;
    events: EventHub;
    operatorTokens: OperatorTokens;
    steps?: readonly PipelineStep[];
  },
): void {
  const steps = deps.steps ?? [];
  app.decorateRequest('auth', null);

  const table: RouteEntry[] = [];
  routeTables.set(app, table);
  app.addHook('onRoute', (route) => {
    const access = route.config?.access;
    if (!access) {
      throw new Error(`route ${String(route.method)} ${route.url} declares no access policy (config.access)`);
    }
    const rateLimit = route.config?.rateLimit ?? 'api';
    for (const method of [route.method].flat()) if (method !== 'HEAD') table.push({ method, url: route.url, access, rateLimit });
  });

  async function authenticateRequest(request: FastifyRequest): Promise<Principal> {
    try {
      const credential = extractCredential(request.headers);
      if (!credential) throw new AppError('missing_authorization');
      return await authenticate(deps.strategies, credential, requestMeta(request));
    } catch (err) {
      if (err instanceof AppError) {
        const reason =
          (FAILURE_REASON as Record<string, 'missing' | 'expired'>)[err.code] ??
          ((err.details as { reason?: string } | undefined)?.reason?.startsWith('session_') ? 'revoked' : 'invalid');
        deps.events.emit('auth.failure', { reason, meta: requestMeta(request) });
      }
      throw err;
    }
  }

  function deny(request: FastifyRequest, principal: Principal, tenantId: string | null, decision: Denial, message?: string): never {
    deps.events.emit('access.denied', {
      principal: describePrincipal(principal),
      tenantId,
      reason: decision.reason,
      required: decision.required,
      meta: requestMeta(request),
    });
    const details = decision.required ? { required: decision.required, role: decision.role } : undefined;
    throw new AppError(decision.reason, message, details);
  }

  async function decide(request: FastifyRequest, policy: AccessPolicy): Promise<AuthContext> {
    const principal = await authenticateRequest(request);
    if ('authenticated' in policy) {
      if (principal.kind !== 'user') {
        deny(request, principal, null, { reason: 'forbidden', required: null, role: null }, 'This endpoint requires a signed-in user');
      }
      return { principal, tenantId: null, role: principal.isSuperadmin ? 'superadmin' : null };
    }
    if ('superadmin' in policy) {
      if (principal.kind !== 'user' || !principal.isSuperadmin) {
        deny(request, principal, null, { reason: 'forbidden', required: null, role: null }, 'Superadmins only');
      }
      return { principal, tenantId: null, role: 'superadmin' };
    }
    if (!('permission' in policy)) throw new Error('unreachable: public and operator policies are decided before authentication');
    // Canonical at the boundary: only the lower-case spelling we issue names a tenant, so every
    // cache key, comparison and query below sees one spelling (an upper-case id used to reach a
    // stale membership cache entry after a removal). Anything else is an unknown resource.
    const rawTenantId = (request.params as Record<string, unknown>).tenantId;
    if (!isCanonicalUuid(rawTenantId)) throw new AppError('not_found', 'Tenant not found');
    const tenantId = rawTenantId;
    const role =
      principal.kind === 'user' && principal.isSuperadmin ? null : await deps.tenantRoles.resolve(tenantId, actingUserId(principal));
    const decision: Decision = authorize(principal, policy.permission, { tenantId, role });
    if (!decision.allowed) deny(request, principal, tenantId, decision);
    return { principal, tenantId, role: decision.role };
  }

  async function runSteps(request: FastifyRequest, auth: AuthContext | null, policy: AccessPolicy): Promise<void> {
    for (const step of steps) await step(request, auth, policy);
  }

  app.addHook('onRequest', async (request) => {
    const policy: AccessPolicy | undefined = request.routeOptions.config.access;
    if (!policy) return; // the 404/405 handler
    if ('public' in policy) {
      if (policy.signedInOptional && extractCredential(request.headers)) {
        const auth = await decide(request, { authenticated: true });
        request.auth = auth;
        return runSteps(request, auth, policy);
      }
      return runSteps(request, null, policy);
    }
    if ('operator' in policy) {
      const decision = decideOperator(policy.operator, { ip: request.ip, headers: request.headers }, deps.operatorTokens);
      if (!decision.allowed) throw new AppError('forbidden', decision.message);
      return runSteps(request, null, policy);
    }
    const auth = await decide(request, policy);
    request.auth = auth;
    await runSteps(request, auth, policy);
  });
}
