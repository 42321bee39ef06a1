import type { TenantRole } from './permissions.js';

/**
 * The port through which the pipeline learns a user's role in a tenant; `tenancy/` implements
 * it (cached, invalidated across instances when a role changes).
 */
export interface TenantRoleLookup {
  /** The user's membership role in the tenant, or null when not a member. Ids are canonical. */
  resolve(tenantId: string, userId: string): Promise<TenantRole | null>;
}
