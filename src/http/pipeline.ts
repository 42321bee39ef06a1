import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authenticate, extractCredential, type AuthStrategy } from '../auth/authenticate.js';
import { authorize, type Decision } from '../auth/authorize.core.js';
import type { Principal } from '../auth/principal.js';
import type { MembershipResolver } from '../tenancy/memberships.cache.js';
import { isUuid } from '../shared/pagination.js';
import type { AccessPolicy, AuthContext } from './access.js';
import { AppError } from './app-error.js';

export interface PipelineHooks {
  /** Called for every authentication failure (metrics, audit). */
  onAuthFailure?(request: FastifyRequest, error: AppError): void;
  /** Called for every authorization denial (metrics, audit). */
  onDenied?(request: FastifyRequest, principal: Principal, decision: Extract<Decision, { allowed: false }>): void;
  /** Later steps of the pipeline (rate limit, audit), run after authorization succeeded. */
  afterAuthorize?: Array<(request: FastifyRequest, auth: AuthContext | null) => Promise<void>>;
}

/**
 * The one request pipeline, in order: request id + logging (Fastify core) → authentication →
 * tenant standing + role/permission → the afterAuthorize steps. It runs in `onRequest`,
 * before any body is parsed, so an anonymous client cannot make the server parse a body on a
 * protected route. Routes without an access policy are refused at registration.
 */
export function installPipeline(
  app: FastifyInstance,
  deps: { strategies: readonly AuthStrategy[]; memberships: MembershipResolver; hooks?: PipelineHooks },
): void {
  const hooks = deps.hooks ?? {};
  app.decorateRequest('auth', null);

  app.addHook('onRoute', (route) => {
    if (!route.config?.access) {
      throw new Error(`route ${String(route.method)} ${route.url} declares no access policy (config.access)`);
    }
  });

  async function authenticateRequest(request: FastifyRequest): Promise<Principal> {
    try {
      const credential = extractCredential(request.headers);
      if (!credential) throw new AppError('missing_authorization');
      return await authenticate(deps.strategies, credential);
    } catch (err) {
      if (err instanceof AppError) hooks.onAuthFailure?.(request, err);
      throw err;
    }
  }

  function deny(request: FastifyRequest, principal: Principal, decision: Extract<Decision, { allowed: false }>): never {
    hooks.onDenied?.(request, principal, decision);
    throw new AppError(decision.reason, undefined, { required: decision.required, role: decision.role });
  }

  app.addHook('onRequest', async (request) => {
    const policy: AccessPolicy | undefined = request.routeOptions.config.access;
    if (!policy || 'public' in policy) {
      for (const step of hooks.afterAuthorize ?? []) await step(request, null);
      return;
    }
    const principal = await authenticateRequest(request);
    let auth: AuthContext;

    if ('authenticated' in policy) {
      if (principal.kind !== 'user') throw new AppError('forbidden', 'This endpoint requires a signed-in user');
      auth = { principal, tenantId: null, role: principal.isSuperadmin ? 'superadmin' : null };
    } else if ('superadmin' in policy) {
      if (principal.kind !== 'user' || !principal.isSuperadmin) throw new AppError('forbidden', 'Superadmins only');
      auth = { principal, tenantId: null, role: 'superadmin' };
    } else {
      const tenantId = (request.params as Record<string, unknown>).tenantId;
      // A malformed id cannot name a tenant; answer as for any unknown resource.
      if (!isUuid(tenantId)) throw new AppError('not_found', 'Tenant not found');
      const memberId = principal.kind === 'user' ? principal.userId : principal.creatorUserId;
      const role =
        principal.kind === 'user' && principal.isSuperadmin ? null : await deps.memberships.resolve(tenantId, memberId);
      const decision = authorize(principal, policy.permission, { tenantId, role });
      if (!decision.allowed) deny(request, principal, decision);
      auth = { principal, tenantId, role: decision.role };
    }
    request.auth = auth;
    for (const step of hooks.afterAuthorize ?? []) await step(request, auth);
  });
}
