import { hasPermission, PERMISSIONS, rankOf, TENANT_ROLES, type Permission, type Role, type TenantRole } from '../access/index.js';

/**
 * Pure rules of tenant API keys as service principals (ADR 0017). Nothing here reads a clock,
 * a database or a request: callers pass `now` and the actor's role.
 */

/** Rotation grace bounds: the old secret stays valid this long after a rotation (0 = not at all). */
export const GRACE_SECONDS = { default: 24 * 3600, max: 7 * 24 * 3600 } as const;

/** The hard cap of a key's own rate limit when the per-principal limit is off (0). */
export const KEY_RATE_LIMIT_CAP = 100_000;

export type ScopeRefusal =
  /** 403 `insufficient_permissions`: the creator may not hand out this much. */
  | { readonly ok: false; readonly code: 'insufficient_permissions'; readonly message: string; readonly details: Record<string, unknown> }
  /** 422 `invalid_key_scope`: the request is coherent for a person but not for a service principal. */
  | { readonly ok: false; readonly code: 'invalid_key_scope'; readonly message: string; readonly details: Record<string, unknown> };

export type ScopePlan = { readonly ok: true; readonly ceiling: TenantRole; readonly permissions: readonly Permission[] } | ScopeRefusal;

const isOwnScoped = (p: Permission) => p.includes(':own.');

/** The lowest tenant role holding every permission in `permissions`, or null when none does. */
export function minimalCeiling(permissions: readonly Permission[]): TenantRole | null {
  const ascending = [...TENANT_ROLES].reverse();
  return ascending.find((role) => permissions.every((p) => hasPermission(role, p))) ?? null;
}

/** Every permission of `role` a key can hold: all of them except the `:own` forms. */
export function keyPermissionsOf(role: TenantRole): Permission[] {
  return [...(PERMISSIONS.get(role) ?? [])].filter((p) => !isOwnScoped(p));
}

/**
 * May someone whose role is `actor` stand behind a key capped at `ceiling`? At most their own
 * role (ASVS 4.0.3 4.1.3 least privilege, 1.4.3; the same spirit as the membership escalation
 * guard, except that equal is allowed: a manager may create a manager-level integration).
 * Superadmins may create any tenant ceiling.
 */
export function mayStandBehind(actor: Role, ceiling: TenantRole): boolean {
  return actor === 'superadmin' || rankOf(ceiling) <= rankOf(actor);
}

/**
 * Checks a creation request and fills in what was left out: without `permissions`, the key
 * holds every non-`:own` permission of its ceiling; without `roleCeiling`, the ceiling is the
 * lowest role that holds the permissions asked for (least privilege). Refuses, in this order:
 * `:own` permissions (a service principal owns no reservations; 422), a ceiling above the
 * creator (403), a permission the creator lacks (403), a permission above the ceiling (422).
 */
export function planKeyScope(actor: Role, input: { roleCeiling?: TenantRole; permissions?: readonly Permission[] }): ScopePlan {
  const asked = input.permissions ? [...new Set(input.permissions)] : null;
  const own = asked?.filter(isOwnScoped) ?? [];
  if (own.length > 0) {
    return {
      ok: false,
      code: 'invalid_key_scope',
      message: 'API keys cannot hold ":own" permissions: a service principal owns no reservations; grant the tenant-wide permission instead',
      details: { permissions: own, reason: 'own_scope' },
    };
  }
  if (asked === null && input.roleCeiling === undefined) {
    return { ok: false, code: 'invalid_key_scope', message: 'Give the key a roleCeiling, permissions, or both', details: { reason: 'empty_scope' } };
  }
  if (input.roleCeiling !== undefined && !mayStandBehind(actor, input.roleCeiling)) {
    return {
      ok: false,
      code: 'insufficient_permissions',
      message: `A ${actor} cannot create a key whose role ceiling is ${input.roleCeiling}`,
      details: { role: actor, roleCeiling: input.roleCeiling },
    };
  }
  const beyondActor = asked?.find((p) => !hasPermission(actor, p));
  if (beyondActor) {
    return { ok: false, code: 'insufficient_permissions', message: 'A key cannot hold permissions its creator lacks', details: { required: beyondActor, role: actor } };
  }
  const ceiling = input.roleCeiling ?? minimalCeiling(asked ?? []);
  if (ceiling === null) {
    // Only reachable for a superadmin asking for a permission no tenant role holds.
    return { ok: false, code: 'invalid_key_scope', message: 'No tenant role holds all these permissions', details: { reason: 'no_role' } };
  }
  const beyondCeiling = (asked ?? []).filter((p) => !hasPermission(ceiling, p));
  if (beyondCeiling.length > 0) {
    return {
      ok: false,
      code: 'invalid_key_scope',
      message: `Permissions above the role ceiling ${ceiling}`,
      details: { permissions: beyondCeiling, roleCeiling: ceiling, reason: 'beyond_ceiling' },
    };
  }
  return { ok: true, ceiling, permissions: asked ?? keyPermissionsOf(ceiling) };
}

/** What a stored key's two secrets say about a presented secret's hash at `now`. */
export type SecretMatch = 'current' | 'previous' | 'none';

/**
 * The current secret always matches; the replaced one only strictly before its grace ends.
 * Both comparisons are made whatever the first gives (`equal` is constant-time), so timing does
 * not tell which secret matched.
 */
export function matchSecret(
  key: { secretHash: Buffer; previousSecretHash: Buffer | null; previousValidUntil: Date | null },
  presented: Buffer,
  now: number,
  equal: (a: Buffer, b: Buffer) => boolean,
): SecretMatch {
  const current = equal(key.secretHash, presented);
  const previous = key.previousSecretHash !== null && equal(key.previousSecretHash, presented);
  if (current) return 'current';
  if (previous && key.previousValidUntil !== null && now < key.previousValidUntil.getTime()) return 'previous';
  return 'none';
}

/**
 * Rotation is refused while the previous rotation's grace is still running: at most two secrets
 * are ever valid, and of two concurrent rotations only one can win (the other answers 409).
 */
export function rotationBlockedUntil(key: { previousValidUntil: Date | null }, now: number): Date | null {
  return key.previousValidUntil !== null && key.previousValidUntil.getTime() > now ? key.previousValidUntil : null;
}
