import { hasPermission, type Permission, type PermissionTable, PERMISSIONS, type Role, type TenantRole } from './permissions.js';
import type { Principal } from './principal.js';

export type Decision =
  | { readonly allowed: true; readonly role: Role }
  | {
      readonly allowed: false;
      readonly reason: 'tenant_mismatch' | 'insufficient_permissions';
      readonly required: Permission;
      readonly role: Role | null;
    };

/** The caller's standing in the tenant the request targets, resolved (and cached) before authorize. */
export interface TenantContext {
  readonly tenantId: string;
  /** The caller's membership role there; null when not a member. For API keys: the creator's role. */
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
    if (tenant === null || tenant.tenantId !== principal.tenantId || tenant.role === null) {
      return { allowed: false, reason: 'tenant_mismatch', required: permission, role: null };
    }
    // Effective permissions: the key's own ∩ its creator's current role.
    if (!principal.permissions.has(permission) || !hasPermission(tenant.role, permission, table)) {
      return { allowed: false, reason: 'insufficient_permissions', required: permission, role: tenant.role };
    }
    return { allowed: true, role: tenant.role };
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
