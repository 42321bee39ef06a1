import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actingUserId, requireAuth, requireTenantId, tenantPermission } from '../access/index.js';
import { requestMeta } from '../http/request-meta.js';
import { TenantParams } from '../http/schemas.js';
import type { MfaPolicyService } from './mfa-policy.service.js';
import { SecurityPolicy } from './mfa.schemas.js';

type StaffRoles = Array<'owner' | 'manager' | 'staff'>;

export const mfaPolicyRoutes: FastifyPluginAsyncTypebox<{ services: { readonly mfaPolicies: MfaPolicyService } }> = async (app, { services }) => {
  app.get('/api/tenants/:tenantId/security-policy', {
    config: { access: tenantPermission('settings.read') },
    schema: { tags: ['mfa'], operationId: 'getSecurityPolicy', summary: "Get the tenant's MFA policy", params: TenantParams, response: { 200: SecurityPolicy } },
  }, async (request) => {
    const roles = await services.mfaPolicies.get(requireTenantId(request.auth));
    return { requireMfaFor: roles.filter((r) => r !== 'customer' && r !== 'guest') as StaffRoles };
  });

  app.put('/api/tenants/:tenantId/security-policy', {
    config: { access: tenantPermission('tenant.manage') },
    schema: { tags: ['mfa'], operationId: 'setSecurityPolicy', summary: 'Set which roles of the tenant must use MFA', params: TenantParams, body: SecurityPolicy, response: { 200: SecurityPolicy } },
  }, async (request) => {
    const auth = requireAuth(request.auth);
    await services.mfaPolicies.set(requireTenantId(auth), request.body.requireMfaFor, { userId: actingUserId(auth.principal), meta: requestMeta(request) });
    return { requireMfaFor: request.body.requireMfaFor };
  });
};
