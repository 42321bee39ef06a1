import { EventEmitter } from 'node:events';

/** Where a request came from; attached to events so audit and metrics need no HTTP types. */
export interface RequestMeta {
  readonly requestId: string | null;
  readonly ip: string | null;
  readonly userAgent: string | null;
}

/**
 * Domain events, emitted by services after the fact. Metrics and the audit log subscribe;
 * services never know who listens. Add an event here before emitting it.
 */
export interface BokaEvents {
  'auth.login': { userId: string; sessionId: string; meta: RequestMeta };
  'auth.login_failed': { userId: string | null; reason: 'invalid_credentials' | 'locked' | 'mfa_failed' | 'passkey_failed' | 'oidc_failed' | 'account_disabled'; meta: RequestMeta };
  'auth.failure': { reason: 'missing' | 'invalid' | 'expired' | 'revoked'; meta: RequestMeta };
  'auth.logout': { userId: string; sessionId: string; meta: RequestMeta };
  'auth.refresh_reuse': { userId: string; sessionId: string; meta: RequestMeta };
  'session.created': { userId: string | null; sessionId: string | null; result: 'ok' | 'error' };
  'session.revoked': { userId: string; sessionId: string; reason: string; meta: RequestMeta | null };
  'access.denied': {
    principal: { type: 'user' | 'api_key'; id: string };
    tenantId: string | null;
    reason: 'tenant_mismatch' | 'insufficient_permissions' | 'forbidden';
    required: string | null;
    meta: RequestMeta;
  };
  'tenant.created': { tenantId: string; userId: string; meta: RequestMeta };
  'member.added': { tenantId: string; actorUserId: string; userId: string; role: string; meta: RequestMeta };
  'member.role_change': { tenantId: string; actorUserId: string; userId: string; from: string; to: string; meta: RequestMeta };
  'member.removed': { tenantId: string; actorUserId: string; userId: string; meta: RequestMeta };
  // Booking: customer records and invitations. A reservation change is recorded in its own
  // transaction, not emitted: ReservationChange (src/shared/reservation-change.ts, ADR 0029).
  /** A customer record's user account changed (null: unlinked); who may then act on its reservations. */
  'customer.linked': { tenantId: string; customerId: string; actorUserId: string; from: string | null; to: string | null; meta: RequestMeta };
  'invitation.created': { tenantId: string; invitationId: string; actorUserId: string; email: string; role: string; meta: RequestMeta };
  'invitation.revoked': { tenantId: string; invitationId: string; actorUserId: string; meta: RequestMeta };
  'invitation.accepted': { tenantId: string; invitationId: string; userId: string; role: string; meta: RequestMeta };
  // Security layer (docs/security.md): MFA, password flows, lockouts, API keys, platform administration.
  'auth.locked': { userId: string | null; scope: 'account' | 'ip' | 'mfa'; meta: RequestMeta };
  'mfa.enabled': { userId: string; meta: RequestMeta };
  'mfa.disabled': { userId: string; method: 'code' | 'password'; meta: RequestMeta };
  'mfa.backup_codes_regenerated': { userId: string; meta: RequestMeta };
  'mfa.replay': { userId: string; meta: RequestMeta };
  'mfa.backup_code_used': { userId: string; remaining: number; meta: RequestMeta };
  'auth.password_changed': { userId: string; revokedSessions: number; meta: RequestMeta };
  'auth.password_reset_requested': { userId: string; meta: RequestMeta };
  'auth.password_reset': { userId: string; revokedSessions: number; meta: RequestMeta };
  'apikey.created': {
    tenantId: string;
    keyId: string;
    actorUserId: string;
    name: string;
    roleCeiling: string;
    permissions: readonly string[];
    meta: RequestMeta;
  };
  'apikey.rotated': { tenantId: string; keyId: string; actorUserId: string; graceSeconds: number; roleCeiling: string; meta: RequestMeta };
  'apikey.revoked': { tenantId: string; keyId: string; actorUserId: string; meta: RequestMeta };
  'apikey.use_denied': {
    tenantId: string;
    keyId: string;
    reason: 'revoked' | 'expired' | 'invalid_secret' | 'creator_gone';
    meta: RequestMeta | null;
  };
  'tenant.security_policy_changed': { tenantId: string; actorUserId: string; requireMfaFor: readonly string[]; meta: RequestMeta };
  'superadmin.access': { userId: string; tenantId: string | null; method: string; route: string; meta: RequestMeta };
  'superadmin.granted': { userId: string; email: string; created: boolean };
  // Passkeys (src/passkeys, ADR 0016).
  'passkey.registered': { userId: string; passkeyId: string; meta: RequestMeta };
  'passkey.removed': { userId: string; passkeyId: string; meta: RequestMeta };
  /** W3C WebAuthn L2 §6.1.1: a signed assertion whose counter did not increase (possible clone). */
  'passkey.counter_regression': { userId: string; passkeyId: string; stored: number; received: number; meta: RequestMeta };
  // Sign in with OpenID Connect (src/oidc, ADR 0015). `created`: the sign-in also created the account.
  'oidc.linked': { userId: string; providerId: string; identityId: string; created: boolean; meta: RequestMeta };
  'oidc.unlinked': { userId: string; providerId: string; identityId: string; meta: RequestMeta };
  'oidc.refused': { userId: string | null; providerId: string; reason: string; meta: RequestMeta };
  // Account self-service and platform user administration (ADR 0021). No email or name in any
  // of them: the audit chain is append-only, so personal data written there could never be
  // anonymised.
  'account.profile_updated': { userId: string; fields: readonly string[]; meta: RequestMeta };
  'account.email_change_requested': { userId: string; meta: RequestMeta };
  'account.email_changed': { userId: string; meta: RequestMeta };
  'account.deleted': { userId: string; revokedSessions: number; tenantIds: readonly string[]; meta: RequestMeta };
  'user.disabled': { userId: string; actorUserId: string; reason: string; revokedSessions: number; meta: RequestMeta };
  'user.enabled': { userId: string; actorUserId: string; reason: string; meta: RequestMeta };
  // Booking webhooks (ADR 0023). Ids only; never the URL's secret parts or the signing secret.
  'webhook.endpoint_changed': { tenantId: string; endpointId: string; actorUserId: string; change: 'created' | 'updated' | 'deleted' | 'secret_rotated'; meta: RequestMeta };
  'webhook.endpoint_disabled': { tenantId: string; endpointId: string; failures: number };
  /** A re-authentication before a sensitive account change (ADR 0021): which proof, and whether it held. */
  'account.reauthenticated': { userId: string; method: 'password' | 'passkey' | 'recent_sign_in'; outcome: 'success' | 'failure'; meta: RequestMeta };
}

export interface EventHub {
  emit<K extends keyof BokaEvents>(name: K, payload: BokaEvents[K]): void;
  on<K extends keyof BokaEvents>(name: K, listener: (payload: BokaEvents[K]) => void): void;
}

/** Synchronous in-process hub. A throwing listener is isolated so it cannot fail the request. */
export function createEventHub(onListenerError: (err: unknown, event: string) => void = () => {}): EventHub {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(50);
  return {
    emit(name, payload) {
      for (const listener of emitter.listeners(name)) {
        try {
          (listener as (p: unknown) => void)(payload);
        } catch (err) {
          onListenerError(err, name);
        }
      }
    },
    on(name, listener) {
      emitter.on(name, listener as (p: unknown) => void);
    },
  };
}

export const NO_META: RequestMeta = { requestId: null, ip: null, userAgent: null };
