import type { Permission, TenantRole } from './permissions.js';

/**
 * Who is calling, whatever the credential. Built once by the authentication step and attached
 * to the request; everything downstream sees only this.
 */
export type Principal = UserPrincipal | ApiKeyPrincipal;

export interface UserPrincipal {
  readonly kind: 'user';
  readonly userId: string;
  readonly sessionId: string;
  readonly isSuperadmin: boolean;
  /**
   * RFC 8176 methods the session was authenticated with (`pwd`, `otp`). Absent means unknown,
   * which counts as password only.
   */
  readonly amr?: readonly string[];
}

/**
 * A tenant service principal (ADR 0017): it belongs to the tenant, not to the member who created
 * it, and acts with at most its `ceiling` role, whatever happens to its creator later.
 */
export interface ApiKeyPrincipal {
  readonly kind: 'api_key';
  readonly keyId: string;
  readonly tenantId: string;
  /** The key's own permissions (its scope); a wider `R.a` also covers `R:own.a`. */
  readonly permissions: ReadonlySet<Permission>;
  /**
   * The highest role the key acts with, fixed at creation. Null only for keys created before
   * migration 008 (or by the previous release): those keep the old rule, own ∩ creator's
   * current role.
   */
  readonly ceiling: TenantRole | null;
  /** Requests per minute for this key; null: the per-principal default. */
  readonly rateLimitPerMinute: number | null;
  /** Who created the key: recorded for the audit trail, and the MFA policy's subject. */
  readonly creatorUserId: string;
}

/** Stable id for logs, metrics and audit: `user:<id>` or `api_key:<id>`. */
export function describePrincipal(p: Principal): { type: Principal['kind']; id: string } {
  return p.kind === 'user' ? { type: 'user', id: p.userId } : { type: 'api_key', id: p.keyId };
}

/**
 * The user a request acts for in services (ownership checks, `created_by` columns): the
 * signed-in user, or the creator of an API key. For a key with a ceiling this no longer decides
 * what the key may do (the ceiling does); for a pre-008 key it still does (its creator's role).
 */
export function actingUserId(p: Principal): string {
  return p.kind === 'user' ? p.userId : p.creatorUserId;
}
