import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { TenancyService } from './tenancy.service.js';
import { requestActor, requireAuth, requireTenantId, SIGNED_IN, tenantPermission } from '../access/index.js';
import { AppError } from '../errors/index.js';
import { requestMeta } from '../http/request-meta.js';
import { errorResponses, NoContent, PageQuery, TenantParams } from '../http/schemas.js';
import { ChangeRoleBody, CreateTenantBody, MemberPage, MemberParams, MemberSchema, TenantResponse } from './tenancy.schemas.js';

/** What these routes use of the app's services. */
export interface TenancyRouteDeps {
  readonly tenancy: TenancyService;
}

/**
 * Tenants and members. The tenant is always the `:tenantId` path parameter, never a body field.
 * Nobody is added to a tenant by naming their email: people join by accepting an invitation
 * mailed to them (`src/invitations/`), which proves the address and is their consent, and
 * answers alike whether or not the address has an account.
 */
export const tenancyRoutes: FastifyPluginAsyncTypebox<{ services: TenancyRouteDeps }> = async (app, { services }) => {
  const { tenancy } = services;

  app.post('/api/tenants', {
    config: { access: SIGNED_IN },
    schema: { tags: ['tenants'], operationId: 'createTenant', summary: 'Create a tenant; the caller becomes its owner', body: CreateTenantBody, response: { ...errorResponses({ 409: ['duplicate_resource'] }), 201: TenantResponse } },
  }, async (request, reply) => {
    const { principal } = requireAuth(request.auth);
    if (principal.kind !== 'user') throw new AppError('forbidden');
    const tenant = await tenancy.createTenant({ userId: principal.userId, meta: requestMeta(request) }, request.body);
    return reply.code(201).send(tenant);
  });

  app.get('/api/tenants/:tenantId', {
    config: { access: tenantPermission('tenant.read') },
    schema: { tags: ['tenants'], operationId: 'getTenant', summary: 'Get a tenant', params: TenantParams, response: { 200: TenantResponse } },
  }, async (request) => tenancy.getTenant(requireTenantId(request.auth)));

  app.get('/api/tenants/:tenantId/members', {
    config: { access: tenantPermission('members.read') },
    schema: { tags: ['members'], operationId: 'listMembers', summary: 'List the members of a tenant', params: TenantParams, querystring: PageQuery, response: { 200: MemberPage } },
  }, async (request) => tenancy.listMembers(requireTenantId(request.auth), request.query));

  app.patch('/api/tenants/:tenantId/members/:userId', {
    config: { access: tenantPermission('members.write') },
    schema: { tags: ['members'], operationId: 'changeMemberRole', summary: "Change a member's role", params: MemberParams, body: ChangeRoleBody, response: { ...errorResponses({ 403: ['insufficient_permissions'], 422: ['invalid_state'] }), 200: MemberSchema } },
  }, async (request) => {
    // The input guard (src/http/input-guard.ts) has already refused a non-canonical :userId.
    return tenancy.changeRole(requireTenantId(request.auth), requestActor(request), request.params.userId, request.body.role);
  });

  app.delete('/api/tenants/:tenantId/members/:userId', {
    config: { access: tenantPermission('members.delete') },
    schema: { tags: ['members'], operationId: 'removeMember', summary: 'Remove a member from a tenant', response: { 204: NoContent, ...errorResponses({ 403: ['insufficient_permissions'], 422: ['invalid_state'] }) }, params: MemberParams },
  }, async (request, reply) => {
    await tenancy.removeMember(requireTenantId(request.auth), requestActor(request), request.params.userId);
    return reply.code(204).send();
  });
};
