import { hasPermission, rankOf, TENANT_ROLES, type Role, type TenantRole } from '../access/index.js';

export type EscalationCheck = { ok: true } | { ok: false; reason: string };

/**
 * Escalation guard for granting and changing roles: an actor may grant, change or remove
 * only roles strictly below their own, except that an owner may make (or manage) another
 * owner. Superadmins may do anything. ASVS 4.1.3 (least privilege) / 4.2.1.
 */
export function checkRoleAssignment(actor: Role, currentRole: TenantRole | null, newRole: TenantRole | null): EscalationCheck {
  if (actor === 'superadmin') return { ok: true };
  const ownerPrivilege = actor === 'owner';
  const mayTouch = (role: TenantRole) => rankOf(role) < rankOf(actor) || (ownerPrivilege && role === 'owner');
  if (currentRole !== null && !mayTouch(currentRole)) {
    return { ok: false, reason: `a ${actor} cannot change or remove a member whose role is ${currentRole}` };
  }
  if (newRole !== null && !mayTouch(newRole)) {
    return { ok: false, reason: `a ${actor} can only grant roles below ${actor}` };
  }
  return { ok: true };
}

/**
 * May someone whose role is now `inviter` (null: no longer a member) stand behind an invitation
 * to `role`? An invitation carries its inviter's authority, so this is re-checked at acceptance.
 */
export function mayInvite(inviter: Role | null, role: TenantRole): boolean {
  return inviter !== null && hasPermission(inviter, 'invitations.create') && checkRoleAssignment(inviter, null, role).ok;
}

/** The roles `inviter` can still invite to; pending invitations to any other role are revoked. */
export function invitableRoles(inviter: Role | null): TenantRole[] {
  return TENANT_ROLES.filter((r) => mayInvite(inviter, r));
}
