import type { Permission, Role } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';

/**
 * Every route declares one of these next to its definition (`config: { access }`). A route
 * without one makes `buildApp` throw, so the test suite fails closed (ASVS 4.1.5).
 */
export type AccessPolicy =
  /** No credential needed. */
  | { readonly public: true }
  /** Any signed-in user, outside any tenant (API keys are not accepted). */
  | { readonly authenticated: true }
  /** `permission` inside the tenant named by the `:tenantId` path parameter. */
  | { readonly permission: Permission; readonly tenant: true }
  /** Platform administration. */
  | { readonly superadmin: true };

export interface AuthContext {
  readonly principal: Principal;
  /** Set on tenant-scoped routes, after the caller's standing there was checked. */
  readonly tenantId: string | null;
  readonly role: Role | null;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: AccessPolicy;
  }
  interface FastifyRequest {
    auth: AuthContext | null;
  }
}

export const PUBLIC: AccessPolicy = { public: true };
export const SIGNED_IN: AccessPolicy = { authenticated: true };
export const SUPERADMIN: AccessPolicy = { superadmin: true };

/** Tenant-scoped policy: `tenantPermission('members.read')`. */
export function tenantPermission(permission: Permission): AccessPolicy {
  return { permission, tenant: true };
}

/** Narrows `request.auth` for handlers behind a non-public policy. */
export function requireAuth(auth: AuthContext | null): AuthContext {
  if (!auth) throw new Error('route handler reached without an auth context; check its access policy');
  return auth;
}
