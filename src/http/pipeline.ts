import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authenticate, extractCredential, type AuthStrategy } from '../auth/authenticate.js';
import { authorize, type Decision } from '../auth/authorize.core.js';
import { describePrincipal, type Principal } from '../auth/principal.js';
import type { EventHub } from '../shared/events.js';
import type { MembershipResolver } from '../tenancy/memberships.cache.js';
import { isUuid } from '../shared/pagination.js';
import type { AccessPolicy, AuthContext } from './access.js';
import { AppError } from './app-error.js';
import { requestMeta } from './request-meta.js';

/**
 * A later step of the pipeline (rate limiting, MFA policy…), run after authorization with the
 * route's policy and the auth context (null on public routes). Throw an AppError to refuse.
 */
export type PipelineStep = (request: FastifyRequest, auth: AuthContext | null, policy: AccessPolicy) => Promise<void>;

/** One registered route and its declared policy; tests walk this to cover every route. */
export interface RouteEntry {
  readonly method: string;
  readonly url: string;
  readonly access: AccessPolicy;
}

const routeTables = new WeakMap<FastifyInstance, RouteEntry[]>();

/** Every route registered on `app` with its access policy (HEAD routes excluded). */
export function listRoutes(app: FastifyInstance): readonly RouteEntry[] {
  return routeTables.get(app) ?? [];
}

const FAILURE_REASON = { missing_authorization: 'missing', token_expired: 'expired' } as const;

/**
 * The one request pipeline, in order: request id + logging (Fastify core) → authentication →
 * tenant standing + role/permission → the later steps (rate limit, audit). It runs in
 * `onRequest`, before any body is parsed, so an anonymous client cannot make the server parse
 * a body on a protected route. Routes without an access policy are refused at registration.
 */
export function installPipeline(
  app: FastifyInstance,
  deps: {
    strategies: readonly AuthStrategy[];
    memberships: MembershipResolver;
    events: EventHub;
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
    for (const method of [route.method].flat()) if (method !== 'HEAD') table.push({ method, url: route.url, access });
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

  function deny(
    request: FastifyRequest,
    principal: Principal,
    tenantId: string | null,
    decision: { reason: 'tenant_mismatch' | 'insufficient_permissions' | 'forbidden'; required: string | null; role: string | null },
    message?: string,
  ): never {
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

  async function runSteps(request: FastifyRequest, auth: AuthContext | null, policy: AccessPolicy): Promise<void> {
    for (const step of steps) await step(request, auth, policy);
  }

  app.addHook('onRequest', async (request) => {
    const policy: AccessPolicy | undefined = request.routeOptions.config.access;
    if (!policy) return; // the 404/405 handler
    if ('public' in policy) return runSteps(request, null, policy);

    const principal = await authenticateRequest(request);
    let auth: AuthContext;
    if ('authenticated' in policy) {
      if (principal.kind !== 'user') {
        deny(request, principal, null, { reason: 'forbidden', required: null, role: null }, 'This endpoint requires a signed-in user');
      }
      auth = { principal, tenantId: null, role: principal.isSuperadmin ? 'superadmin' : null };
    } else if ('superadmin' in policy) {
      if (principal.kind !== 'user' || !principal.isSuperadmin) {
        deny(request, principal, null, { reason: 'forbidden', required: null, role: null }, 'Superadmins only');
      }
      auth = { principal, tenantId: null, role: 'superadmin' };
    } else {
      const tenantId = (request.params as Record<string, unknown>).tenantId;
      // A malformed id cannot name a tenant; answer as for any unknown resource.
      if (!isUuid(tenantId)) throw new AppError('not_found', 'Tenant not found');
      const memberId = principal.kind === 'user' ? principal.userId : principal.creatorUserId;
      const role =
        principal.kind === 'user' && principal.isSuperadmin ? null : await deps.memberships.resolve(tenantId, memberId);
      const decision: Decision = authorize(principal, policy.permission, { tenantId, role });
      if (!decision.allowed) deny(request, principal, tenantId, decision);
      auth = { principal, tenantId, role: decision.role };
    }
    request.auth = auth;
    await runSteps(request, auth, policy);
  });
}
