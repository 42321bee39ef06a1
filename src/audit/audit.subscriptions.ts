import type { EventHub } from '../shared/events.js';
import type { AuditEntry } from './audit.core.js';

const user = (id: string | null) => (id ? { type: 'user' as const, id } : { type: 'anonymous' as const, id: null });

/**
 * Maps domain events to audit records. Events carry ids and request facts only, never a secret,
 * so nothing here can leak a token or password into the log (ASVS 7.1.1).
 */
export function subscribeAuditEvents(events: EventHub, record: (entry: AuditEntry) => void): void {
  events.on('auth.login', (e) =>
    record({ tenantId: null, actor: user(e.userId), action: 'auth.login', target: `session:${e.sessionId}`, outcome: 'success', meta: e.meta }));
  events.on('auth.login_failed', (e) =>
    record({ tenantId: null, actor: user(e.userId), action: 'auth.login_failed', outcome: 'failure', meta: e.meta, details: { reason: e.reason } }));
  events.on('auth.locked', (e) =>
    record({ tenantId: null, actor: user(e.userId), action: 'auth.locked', outcome: 'denied', meta: e.meta, details: { scope: e.scope } }));
  events.on('auth.logout', (e) =>
    record({ tenantId: null, actor: user(e.userId), action: 'auth.logout', target: `session:${e.sessionId}`, outcome: 'success', meta: e.meta }));
  events.on('auth.refresh_reuse', (e) =>
    record({ tenantId: null, actor: user(e.userId), action: 'auth.refresh_reuse', target: `session:${e.sessionId}`, outcome: 'denied', meta: e.meta }));
  events.on('session.revoked', (e) =>
    record({ tenantId: null, actor: user(e.userId), action: 'session.revoked', target: `session:${e.sessionId}`, outcome: 'success', meta: e.meta, details: { reason: e.reason } }));

  // Every 403 decision. A non-member probing a tenant goes to the platform chain (the tenant may
  // not even exist, and strangers must not be able to grow a tenant's chain); a member's denial
  // goes to that tenant's chain.
  events.on('access.denied', (e) =>
    record({
      tenantId: e.reason === 'insufficient_permissions' ? e.tenantId : null,
      actor: e.principal,
      action: 'access.denied',
      target: e.tenantId ? `tenant:${e.tenantId}` : null,
      outcome: 'denied',
      meta: e.meta,
      details: { reason: e.reason, required: e.required },
    }));

  events.on('tenant.created', (e) =>
    record({ tenantId: e.tenantId, actor: user(e.userId), action: 'tenant.created', target: `tenant:${e.tenantId}`, outcome: 'success', meta: e.meta }));
  events.on('member.added', (e) =>
    record({ tenantId: e.tenantId, actor: user(e.actorUserId), action: 'member.added', target: `user:${e.userId}`, outcome: 'success', meta: e.meta, details: { role: e.role } }));
  events.on('member.role_change', (e) =>
    record({ tenantId: e.tenantId, actor: user(e.actorUserId), action: 'member.role_change', target: `user:${e.userId}`, outcome: 'success', meta: e.meta, details: { from: e.from, to: e.to } }));
  events.on('member.removed', (e) =>
    record({ tenantId: e.tenantId, actor: user(e.actorUserId), action: 'member.removed', target: `user:${e.userId}`, outcome: 'success', meta: e.meta }));

  events.on('customer.linked', (e) =>
    record({ tenantId: e.tenantId, actor: user(e.actorUserId), action: 'customer.linked', target: `customer:${e.customerId}`, outcome: 'success', meta: e.meta, details: { from: e.from, to: e.to } }));

  events.on('invitation.created', (e) =>
    record({ tenantId: e.tenantId, actor: user(e.actorUserId), action: 'invitation.create', target: `invitation:${e.invitationId}`, outcome: 'success', meta: e.meta, details: { role: e.role } }));
  events.on('invitation.revoked', (e) =>
    record({ tenantId: e.tenantId, actor: user(e.actorUserId), action: 'invitation.revoke', target: `invitation:${e.invitationId}`, outcome: 'success', meta: e.meta }));
  events.on('invitation.accepted', (e) =>
    record({ tenantId: e.tenantId, actor: user(e.userId), action: 'invitation.accept', target: `invitation:${e.invitationId}`, outcome: 'success', meta: e.meta, details: { role: e.role } }));

  events.on('mfa.enabled', (e) =>
    record({ tenantId: null, actor: user(e.userId), action: 'mfa.enabled', target: `user:${e.userId}`, outcome: 'success', meta: e.meta }));
  events.on('mfa.disabled', (e) =>
    record({ tenantId: null, actor: user(e.userId), action: 'mfa.disabled', target: `user:${e.userId}`, outcome: 'success', meta: e.meta, details: { method: e.method } }));
  events.on('mfa.backup_codes_regenerated', (e) =>
    record({ tenantId: null, actor: user(e.userId), action: 'mfa.backup_codes_regenerated', target: `user:${e.userId}`, outcome: 'success', meta: e.meta }));
  events.on('mfa.backup_code_used', (e) =>
    record({ tenantId: null, actor: user(e.userId), action: 'mfa.backup_code_used', target: `user:${e.userId}`, outcome: 'success', meta: e.meta, details: { remaining: e.remaining } }));
  // ASVS 2.8.5: a replayed TOTP code is logged.
  events.on('mfa.replay', (e) =>
    record({ tenantId: null, actor: user(e.userId), action: 'mfa.replay', target: `user:${e.userId}`, outcome: 'denied', meta: e.meta }));

  events.on('auth.password_changed', (e) =>
    record({ tenantId: null, actor: user(e.userId), action: 'auth.password_changed', target: `user:${e.userId}`, outcome: 'success', meta: e.meta, details: { revokedSessions: e.revokedSessions } }));
  events.on('auth.password_reset_requested', (e) =>
    record({ tenantId: null, actor: { type: 'anonymous', id: null }, action: 'auth.password_reset_requested', target: `user:${e.userId}`, outcome: 'success', meta: e.meta }));
  events.on('auth.password_reset', (e) =>
    record({ tenantId: null, actor: user(e.userId), action: 'auth.password_reset', target: `user:${e.userId}`, outcome: 'success', meta: e.meta, details: { revokedSessions: e.revokedSessions } }));

  events.on('apikey.created', (e) =>
    record({ tenantId: e.tenantId, actor: user(e.actorUserId), action: 'apikey.create', target: `api_key:${e.keyId}`, outcome: 'success', meta: e.meta, details: { name: e.name, roleCeiling: e.roleCeiling, permissions: e.permissions.join(' ') } }));
  events.on('apikey.rotated', (e) =>
    record({ tenantId: e.tenantId, actor: user(e.actorUserId), action: 'apikey.rotate', target: `api_key:${e.keyId}`, outcome: 'success', meta: e.meta, details: { graceSeconds: e.graceSeconds, roleCeiling: e.roleCeiling } }));
  events.on('apikey.revoked', (e) =>
    record({ tenantId: e.tenantId, actor: user(e.actorUserId), action: 'apikey.revoke', target: `api_key:${e.keyId}`, outcome: 'success', meta: e.meta }));
  events.on('apikey.use_denied', (e) =>
    record({ tenantId: e.tenantId, actor: { type: 'api_key', id: e.keyId }, action: 'apikey.use_denied', target: `api_key:${e.keyId}`, outcome: 'denied', meta: e.meta, details: { reason: e.reason } }));

  events.on('tenant.security_policy_changed', (e) =>
    record({ tenantId: e.tenantId, actor: user(e.actorUserId), action: 'tenant.security_policy_changed', target: `tenant:${e.tenantId}`, outcome: 'success', meta: e.meta, details: { requireMfaFor: e.requireMfaFor.join(' ') } }));

  // Every superadmin action lands in the platform chain, and in the tenant's chain when it
  // touched a tenant, so the tenant's owners see it too.
  events.on('superadmin.access', (e) => {
    const entry = { actor: user(e.userId), action: 'superadmin.access', target: e.tenantId ? `tenant:${e.tenantId}` : null, outcome: 'success' as const, meta: e.meta, details: { method: e.method, route: e.route } };
    record({ ...entry, tenantId: null });
    if (e.tenantId) record({ ...entry, tenantId: e.tenantId });
  });
  // Account lifecycle (ADR 0021): platform chain; ids only, never the email or name.
  events.on('account.profile_updated', (e) =>
    record({ tenantId: null, actor: user(e.userId), action: 'account.profile_updated', target: `user:${e.userId}`, outcome: 'success', meta: e.meta, details: { fields: e.fields.join(' ') } }));
  events.on('account.email_change_requested', (e) =>
    record({ tenantId: null, actor: user(e.userId), action: 'account.email_change_requested', target: `user:${e.userId}`, outcome: 'success', meta: e.meta }));
  events.on('account.email_changed', (e) =>
    record({ tenantId: null, actor: user(e.userId), action: 'account.email_changed', target: `user:${e.userId}`, outcome: 'success', meta: e.meta }));
  events.on('account.reauthenticated', (e) =>
    record({ tenantId: null, actor: user(e.userId), action: 'account.reauthenticated', target: `user:${e.userId}`, outcome: e.outcome, meta: e.meta, details: { method: e.method } }));
  events.on('account.deleted', (e) =>
    record({ tenantId: null, actor: user(e.userId), action: 'account.deleted', target: `user:${e.userId}`, outcome: 'success', meta: e.meta, details: { revokedSessions: e.revokedSessions, tenants: e.tenantIds.length } }));
  events.on('user.disabled', (e) =>
    record({ tenantId: null, actor: user(e.actorUserId), action: 'user.disabled', target: `user:${e.userId}`, outcome: 'success', meta: e.meta, details: { reason: e.reason, revokedSessions: e.revokedSessions } }));
  events.on('user.enabled', (e) =>
    record({ tenantId: null, actor: user(e.actorUserId), action: 'user.enabled', target: `user:${e.userId}`, outcome: 'success', meta: e.meta, details: { reason: e.reason } }));
  events.on('superadmin.granted', (e) =>
    record({ tenantId: null, actor: { type: 'system', id: 'cli' }, action: 'superadmin.granted', target: `user:${e.userId}`, outcome: 'success', details: { email: e.email, created: e.created } }));

  events.on('passkey.registered', (e) =>
    record({ tenantId: null, actor: user(e.userId), action: 'passkey.registered', target: `passkey:${e.passkeyId}`, outcome: 'success', meta: e.meta }));
  events.on('passkey.removed', (e) =>
    record({ tenantId: null, actor: user(e.userId), action: 'passkey.removed', target: `passkey:${e.passkeyId}`, outcome: 'success', meta: e.meta }));
  // W3C WebAuthn L2 §6.1.1: a counter that did not increase may mean a cloned authenticator.
  events.on('passkey.counter_regression', (e) =>
    record({ tenantId: null, actor: user(e.userId), action: 'passkey.counter_regression', target: `passkey:${e.passkeyId}`, outcome: 'denied', meta: e.meta, details: { stored: e.stored, received: e.received } }));
  // Sign in with OpenID Connect (ADR 0015); the sign-in itself is an `auth.login` like any other.
  events.on('oidc.linked', (e) =>
    record({ tenantId: null, actor: user(e.userId), action: 'oidc.linked', target: `oidc_identity:${e.identityId}`, outcome: 'success', meta: e.meta, details: { provider: e.providerId, created: e.created } }));
  events.on('oidc.unlinked', (e) =>
    record({ tenantId: null, actor: user(e.userId), action: 'oidc.unlinked', target: `oidc_identity:${e.identityId}`, outcome: 'success', meta: e.meta, details: { provider: e.providerId } }));
  events.on('oidc.refused', (e) =>
    record({ tenantId: null, actor: user(e.userId), action: 'oidc.refused', target: null, outcome: 'denied', meta: e.meta, details: { provider: e.providerId, reason: e.reason } }));
  // Booking webhooks (ADR 0023): who changed an endpoint, and the automatic disabling.
  events.on('webhook.endpoint_changed', (e) =>
    record({ tenantId: e.tenantId, actor: user(e.actorUserId), action: `webhook.${e.change}`, target: `webhook_endpoint:${e.endpointId}`, outcome: 'success', meta: e.meta }));
  events.on('webhook.endpoint_disabled', (e) =>
    record({ tenantId: e.tenantId, actor: { type: 'system', id: 'webhooks' }, action: 'webhook.disabled', target: `webhook_endpoint:${e.endpointId}`, outcome: 'failure', details: { failures: e.failures } }));
}
