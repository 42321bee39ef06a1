import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors/index.js';
import { requestMeta } from '../http/request-meta.js';
import type { EventHub } from '../shared/events.js';
import { isCanonicalUuid } from '../shared/ids.js';
import { authorize, type Decision, type KeyShortfall } from './authorize.core.js';
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
/**
 * A check after authentication; `reply` lets a step put headers on the answer (e.g. RateLimit-*).
 * A step that has nothing to wait for returns (or throws) synchronously: the pipeline then costs
 * no promise and no microtask turn on that request (issue 16).
 */
export type PipelineStep = (request: FastifyRequest, auth: AuthContext | null, policy: AccessPolicy, reply: FastifyReply) => void | Promise<void>;

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

type Denial = {
  reason: 'tenant_mismatch' | 'insufficient_permissions' | 'forbidden';
  required: string | null;
  role: string | null;
  missing?: readonly KeyShortfall[];
};

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
    // For a key, name what lacks the permission (its own scope, its ceiling, or both) and the
    // key itself; nothing else about the key or its tenant (no secret, no creator).
    const keyDetails =
      principal.kind === 'api_key' && decision.missing ? { principal: 'api_key', keyId: principal.keyId, missing: decision.missing } : {};
    const details = decision.required ? { required: decision.required, role: decision.role, ...keyDetails } : undefined;
    const keyMessage =
      decision.missing === undefined
        ? undefined
        : decision.missing.length === 2
          ? 'Neither this API key nor its role ceiling grants this permission'
          : decision.missing[0] === 'key_permissions'
            ? "This API key's permissions do not include this permission"
            : "This API key's role ceiling does not grant this permission";
    throw new AppError(decision.reason, message ?? keyMessage, details);
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
    // Only users and pre-008 keys (no ceiling) depend on a membership; a service principal's
    // standing is its ceiling, so its creator leaving the tenant does not touch it (ADR 0017).
    const needsMembership = principal.kind === 'user' ? !principal.isSuperadmin : principal.ceiling === null;
    const role = needsMembership ? await deps.tenantRoles.resolve(tenantId, actingUserId(principal)) : null;
    const decision: Decision = authorize(principal, policy.permission, { tenantId, role });
    if (!decision.allowed) deny(request, principal, tenantId, decision);
    if (principal.kind === 'api_key' && policy.apiKeys === false) {
      deny(request, principal, tenantId, { reason: 'forbidden', required: null, role: null }, 'This endpoint is for signed-in members, not API keys');
    }
    return { principal, tenantId, role: decision.role };
  }

  /** The steps in order, synchronously until one returns a promise. */
  function runSteps(request: FastifyRequest, auth: AuthContext | null, policy: AccessPolicy, reply: FastifyReply, from = 0): void | Promise<void> {
    for (let i = from; i < steps.length; i++) {
      const pending = steps[i]!(request, auth, policy, reply);
      if (pending) return pending.then(() => runSteps(request, auth, policy, reply, i + 1));
    }
  }

  function authenticated(request: FastifyRequest, policy: AccessPolicy, needs: AccessPolicy, reply: FastifyReply): Promise<void> {
    return decide(request, needs).then((auth) => {
      request.auth = auth;
      return runSteps(request, auth, policy, reply);
    });
  }

  function check(request: FastifyRequest, reply: FastifyReply): void | Promise<void> {
    const policy: AccessPolicy | undefined = request.routeOptions.config.access;
    if (!policy) return; // the 404/405 handler
    if ('public' in policy) {
      if (policy.signedInOptional && extractCredential(request.headers)) return authenticated(request, policy, { authenticated: true }, reply);
      return runSteps(request, null, policy, reply);
    }
    if ('operator' in policy) {
      const decision = decideOperator(policy.operator, { ip: request.ip, headers: request.headers }, deps.operatorTokens);
      if (!decision.allowed) throw new AppError('forbidden', decision.message);
      return runSteps(request, null, policy, reply);
    }
    return authenticated(request, policy, policy, reply);
  }

  // A callback hook: a public request whose steps have nothing to wait for is decided without a
  // promise (issue 16); a refusal, thrown or rejected, reaches the error handler through `done`.
  app.addHook('onRequest', (request, reply, done) => {
    let pending: void | Promise<void>;
    try {
      pending = check(request, reply);
    } catch (err) {
      done(err as Error);
      return;
    }
    if (pending) pending.then(() => done(), done);
    else done();
  });
}
