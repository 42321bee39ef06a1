import { hasPermission, type AuthContext, type Permission, type PipelineStep, type TenantRole } from '../access/index.js';
import { AppError } from '../errors/index.js';
import type { MfaPolicyService } from './mfa-policy.service.js';
import type { MfaService } from './mfa.service.js';

/**
 * Tenant administration = any permission the `staff` role does not hold (managing members,
 * invitations, API keys, audit, services, settings…), derived from the matrix, not listed.
 */
function isAdminPermission(permission: Permission): boolean {
  return !hasPermission('staff', permission);
}

/**
 * Pipeline step: when the tenant's policy names the caller's role, admin routes need a second
 * factor, whatever the credential:
 * - a user session must have been authenticated with one (`amr` contains `otp`, or `hwk` for a
 *   passkey, which needs no TOTP enrolment): not enrolled →
 *   403 `mfa_required` (enrol); enrolled but this session was opened with the password alone →
 *   403 `mfa_required` (sign in again);
 * - an API key acts with its role ceiling (a pre-008 key: its creator's role), so it is refused
 *   unless its creator has MFA enabled (a key cannot present a code; its creation was itself an
 *   admin action).
 */
export function createMfaPolicyStep(policies: Pick<MfaPolicyService, 'get'>, mfa: Pick<MfaService, 'isEnabled'>): PipelineStep {
  // Synchronous until a tenant admin route needs the tenant's policy (issue 16).
  return (_request, auth, policy) => {
    if (!auth || !('permission' in policy) || !auth.tenantId) return;
    const role = auth.role;
    if (!role || role === 'superadmin' || !isAdminPermission(policy.permission)) return;
    return enforce(auth, auth.tenantId, role);
  };

  async function enforce(auth: AuthContext, tenantId: string, role: TenantRole): Promise<void> {
    const required = await policies.get(tenantId);
    if (!required.includes(role)) return;
    const { principal } = auth;
    // A passkey session (`hwk`, ADR 0016) proved possession of a user-verifying authenticator:
    // multi-factor on its own, whether or not TOTP is enrolled.
    if (principal.kind === 'user' && principal.amr?.includes('hwk')) return;
    const userId = principal.kind === 'user' ? principal.userId : principal.creatorUserId;
    const enrolled = await mfa.isEnabled(userId);
    if (principal.kind === 'api_key') {
      if (enrolled) return;
      throw new AppError('mfa_required', "This tenant requires multi-factor authentication for the key creator's role, and the creator has not enabled it", { role, reason: 'key_creator_without_mfa' }, { status: 403 });
    }
    if (!enrolled) {
      throw new AppError('mfa_required', 'This tenant requires multi-factor authentication for your role; enrol at /api/auth/mfa/totp/setup', { role, enrol: '/api/auth/mfa/totp/setup' }, { status: 403 });
    }
    if (principal.amr?.includes('otp')) return;
    throw new AppError('mfa_required', 'This session was opened without your second factor; sign in again with it', { role, reason: 'session_without_mfa' }, { status: 403 });
  }
}
