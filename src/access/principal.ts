import type { Permission } from './permissions.js';

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

export interface ApiKeyPrincipal {
  readonly kind: 'api_key';
  readonly keyId: string;
  readonly tenantId: string;
  /** The key's own permissions; intersected with its creator's current ones at authorization. */
  readonly permissions: ReadonlySet<Permission>;
  readonly creatorUserId: string;
}

/** Stable id for logs, metrics and audit: `user:<id>` or `api_key:<id>`. */
export function describePrincipal(p: Principal): { type: Principal['kind']; id: string } {
  return p.kind === 'user' ? { type: 'user', id: p.userId } : { type: 'api_key', id: p.keyId };
}

/**
 * The user whose standing decides what this principal may do: the signed-in user, or the
 * creator of an API key (a key never has more than its creator's current role).
 */
export function actingUserId(p: Principal): string {
  return p.kind === 'user' ? p.userId : p.creatorUserId;
}
