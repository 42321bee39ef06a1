import { type AuthContext, hasPermission, type Permission, type Role } from '../access/index.js';

/**
 * Who acts inside a tenant, reduced to what the booking rules need: the user behind the
 * credential (an API key acts for its creator) and the effective permissions (for a key: its own
 * ∩ its creator's role, as in authorize.core).
 */
export interface Actor {
  readonly userId: string;
  readonly role: Role;
  can(permission: Permission): boolean;
}

export function actorFrom(auth: AuthContext): Actor {
  const role: Role = auth.role ?? 'guest';
  const p = auth.principal;
  if (p.kind === 'user') return { userId: p.userId, role, can: (perm) => hasPermission(role, perm) };
  return { userId: p.creatorUserId, role, can: (perm) => p.permissions.has(perm) && hasPermission(role, perm) };
}
