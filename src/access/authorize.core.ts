import { hasPermission, type Permission, type PermissionTable, PERMISSIONS, type Role, type TenantRole } from './permissions.js';
import type { ApiKeyPrincipal, Principal } from './principal.js';

/**
 * For an API key's denial: what lacks the permission. `key_permissions` is the key's own scope,
 * `role_ceiling` the role it was capped at (for a pre-008 key: its creator's current role).
 */
export type KeyShortfall = 'key_permissions' | 'role_ceiling';

export type Decision =
  | { readonly allowed: true; readonly role: Role }
  | {
      readonly allowed: false;
      readonly reason: 'tenant_mismatch' | 'insufficient_permissions';
      readonly required: Permission;
      readonly role: Role | null;
      /** API keys only: which of the key's two bounds lacks `required` (one or both). */
      readonly missing?: readonly KeyShortfall[];
    };

/**
 * Does the key's own scope cover `permission`? A wider permission covers its `:own` form
 * (`reservations.read` reaches every reservation, so also the caller's own), which is how the
 * roles behave too; a service principal owns nothing, so `:own` alone is never granted to a key.
 */
export function keyScopeCovers(principal: Pick<ApiKeyPrincipal, 'permissions'>, permission: Permission): boolean {
  if (principal.permissions.has(permission)) return true;
  const own = /^([a-z_]+):own\.([a-z_]+)$/.exec(permission);
  return own !== null && principal.permissions.has(`${own[1]}.${own[2]}` as Permission);
}

/** The caller's standing in the tenant the request targets, resolved (and cached) before authorize. */
export interface TenantContext {
  readonly tenantId: string;
  /**
   * The caller's membership role there; null when not a member. For an API key: its ceiling, or
   * for a pre-008 key (no ceiling) its creator's current role.
   */
  readonly role: TenantRole | null;
}

/**
 * Decides whether `principal` may use `permission`, optionally inside a tenant. Pure and total:
 * it returns a Decision and never throws; only the HTTP layer turns a denial into 401/403.
 */
export function authorize(
  principal: Principal,
  permission: Permission,
  tenant: TenantContext | null,
  table: PermissionTable = PERMISSIONS,
): Decision {
  if (principal.kind === 'user' && principal.isSuperadmin) return { allowed: true, role: 'superadmin' };

  if (principal.kind === 'api_key') {
    // A key is bound to its tenant and can never reach another one.
    if (tenant === null || tenant.tenantId !== principal.tenantId) {
      return { allowed: false, reason: 'tenant_mismatch', required: permission, role: null };
    }
    // A service principal acts with its own ceiling, never with its creator's standing; only a
    // pre-008 key (no ceiling) still depends on its creator's current membership.
    const role = principal.ceiling ?? tenant.role;
    if (role === null) return { allowed: false, reason: 'tenant_mismatch', required: permission, role: null };
    // Effective permissions: the key's own scope ∩ its ceiling.
    const missing: KeyShortfall[] = [];
    if (!keyScopeCovers(principal, permission)) missing.push('key_permissions');
    if (!hasPermission(role, permission, table)) missing.push('role_ceiling');
    if (missing.length > 0) return { allowed: false, reason: 'insufficient_permissions', required: permission, role, missing };
    return { allowed: true, role };
  }

  if (tenant === null) {
    // Platform-level permission outside any tenant: only superadmin holds those.
    return { allowed: false, reason: 'insufficient_permissions', required: permission, role: null };
  }
  if (tenant.role === null) {
    return { allowed: false, reason: 'tenant_mismatch', required: permission, role: null };
  }
  if (!hasPermission(tenant.role, permission, table)) {
    return { allowed: false, reason: 'insufficient_permissions', required: permission, role: tenant.role };
  }
  return { allowed: true, role: tenant.role };
}
