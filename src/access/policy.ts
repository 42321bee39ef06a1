import type { Permission, Role } from './permissions.js';
import { AppError } from '../errors/index.js';
import type { Principal, UserPrincipal } from './principal.js';

/** Operator credentials, each with its own token setting (`METRICS_TOKEN`, `HEALTH_TOKEN`, the router's admin token). */
export type OperatorScope = 'metrics' | 'health' | 'router_admin';

/**
 * Every route declares one of these next to its definition (`config: { access }`). A route
 * without one makes `buildApp` throw, so the test suite fails closed (ASVS 4.1.5).
 */
export type AccessPolicy =
  /**
   * No credential needed. With `signedInOptional`, a request that does send a credential is
   * authenticated like `authenticated` (a bad one is 401, an API key 403) and sees its principal.
   */
  | { readonly public: true; readonly signedInOptional?: true }
  /** Any signed-in user, outside any tenant (API keys are not accepted). */
  | { readonly authenticated: true }
  /**
   * `permission` inside the tenant named by the `:tenantId` path parameter. `apiKeys: false`
   * refuses API keys even when they hold the permission (minting or rotating key secrets is for
   * people: a key minting keys would outlive every human check).
   */
  | { readonly permission: Permission; readonly tenant: true; readonly apiKeys?: false }
  /** Platform administration. */
  | { readonly superadmin: true }
  /**
   * Operator endpoints (metrics, deep health, the rollout router's admin API): the scope's
   * token when one is configured, otherwise callers on this machine only.
   */
  | { readonly operator: OperatorScope };

/**
 * How the per-principal rate limit treats a route: `api` counts it; `auth` counts it and
 * fails closed when the shared limiter store is down (credential endpoints, ASVS 2.2.1);
 * `exempt` never counts (probes must not be throttled into a restart loop); `availability`
 * counts like `api` and also draws on the availability budget per caller and per tenant
 * (src/rate-limit/availability-budget.step.ts).
 */
export type RateLimitClass = 'api' | 'auth' | 'exempt' | 'availability';

export interface AuthContext {
  readonly principal: Principal;
  /** Set on tenant-scoped routes, after the caller's standing there was checked. */
  readonly tenantId: string | null;
  readonly role: Role | null;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: AccessPolicy;
    /** Defaults to `api`. */
    rateLimit?: RateLimitClass;
  }
  interface FastifyRequest {
    auth: AuthContext | null;
  }
}

export const PUBLIC: AccessPolicy = { public: true };
export const SIGNED_IN: AccessPolicy = { authenticated: true };
/** Public, but a signed-in user who sends a credential is known (guest or account booking). */
export const PUBLIC_OR_SIGNED_IN: AccessPolicy = { public: true, signedInOptional: true };
export const SUPERADMIN: AccessPolicy = { superadmin: true };

/** Tenant-scoped policy: `tenantPermission('members.read')`; `{ apiKeys: false }` for people only. */
export function tenantPermission(permission: Permission, opts: { apiKeys?: false } = {}): AccessPolicy {
  return opts.apiKeys === false ? { permission, tenant: true, apiKeys: false } : { permission, tenant: true };
}

/** Whether a policy lets an API key through (given the permission); the route table shows it. */
export function acceptsApiKeys(policy: AccessPolicy): boolean {
  return 'permission' in policy && policy.apiKeys !== false;
}

/** Operator policy: `operator('metrics')`. */
export function operator(scope: OperatorScope): AccessPolicy {
  return { operator: scope };
}

/** Narrows `request.auth` for handlers behind a non-public policy. */
export function requireAuth(auth: AuthContext | null): AuthContext {
  if (!auth) throw new Error('route handler reached without an auth context; check its access policy');
  return auth;
}

/** The signed-in user of a route that API keys may not call (403 `forbidden` for any other principal). */
export function requireUser(auth: AuthContext | null): UserPrincipal {
  const { principal } = requireAuth(auth);
  if (principal.kind !== 'user') throw new AppError('forbidden', 'This endpoint requires a signed-in user');
  return principal;
}

/** The canonical id of the tenant a tenant-scoped route was authorized for. */
export function requireTenantId(auth: AuthContext | null): string {
  const tenantId = requireAuth(auth).tenantId;
  if (tenantId === null) throw new Error('tenant id read on a route without a tenant policy');
  return tenantId;
}
