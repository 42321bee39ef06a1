import { hasPermission, type Permission, type PipelineStep } from '../access/index.js';
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

/** Pipeline step: members whose role the tenant's policy names get 403 `mfa_required` on admin routes until they enrol. */
export function createMfaPolicyStep(policies: Pick<MfaPolicyService, 'get'>, mfa: Pick<MfaService, 'isEnabled'>): PipelineStep {
  return async (_request, auth, policy) => {
    if (!auth || !('permission' in policy) || !auth.tenantId || auth.principal.kind !== 'user') return;
    const role = auth.role;
    if (!role || role === 'superadmin' || !isAdminPermission(policy.permission)) return;
    const required = await policies.get(auth.tenantId);
    if (!required.includes(role)) return;
    if (await mfa.isEnabled(auth.principal.userId)) return;
    throw new AppError('mfa_required', 'This tenant requires multi-factor authentication for your role; enrol at /api/auth/mfa/totp/setup', { role, enrol: '/api/auth/mfa/totp/setup' }, { status: 403 });
  };
}
