import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requestActor, requireAuth, requireTenantId, SIGNED_IN, tenantPermission } from '../access/index.js';
import { AppError } from '../errors/index.js';
import { requestMeta } from '../http/request-meta.js';
import { errorResponses, NoContent, PageQuery, TenantParams } from '../http/schemas.js';
import { AcceptBody, AcceptResponse, InvitationCreate, InvitationCreated, InvitationPage, InvitationParams } from './invitations.schemas.js';
import { toWireInvitation, type InvitationsService } from './invitations.service.js';

/** What these routes use of the app's services. */
export interface InvitationRouteDeps {
  readonly invitations: InvitationsService;
  /** The token travels by mail; echoing it in the response is a development convenience only. */
  readonly config: { readonly env: string };
}

/** Invite by email (tenant side) and accept with the mailed one-time token (user side). */
export const invitationRoutes: FastifyPluginAsyncTypebox<{ services: InvitationRouteDeps }> = async (app, { services }) => {
  const { invitations, config } = services;

  app.post('/api/tenants/:tenantId/invitations', {
    config: { access: tenantPermission('invitations.create') },
    schema: { tags: ['invitations'], operationId: 'createInvitation', summary: 'Invite someone by email to join the tenant with a role', params: TenantParams, body: InvitationCreate, response: { ...errorResponses({ 403: ['insufficient_permissions'], 409: ['duplicate_resource'] }), 201: InvitationCreated } },
  }, async (request, reply) => {
    const { invitation, token } = await invitations.create(requireTenantId(request.auth), requestActor(request), request.body);
    return reply.code(201).send({ ...toWireInvitation(invitation), ...(config.env === 'production' ? {} : { token }) });
  });

  app.get('/api/tenants/:tenantId/invitations', {
    config: { access: tenantPermission('invitations.read') },
    schema: { tags: ['invitations'], operationId: 'listInvitations', summary: 'List the open invitations of a tenant', params: TenantParams, querystring: PageQuery, response: { 200: InvitationPage } },
  }, async (request) => invitations.list(requireTenantId(request.auth), request.query));

  app.delete('/api/tenants/:tenantId/invitations/:id', {
    config: { access: tenantPermission('invitations.delete') },
    schema: { tags: ['invitations'], operationId: 'revokeInvitation', summary: 'Revoke an open invitation', response: { 204: NoContent }, params: InvitationParams },
  }, async (request, reply) => {
    await invitations.revoke(requireTenantId(request.auth), requestActor(request), request.params.id);
    return reply.code(204).send();
  });

  app.post('/api/invitations/accept', {
    config: { access: SIGNED_IN },
    schema: { tags: ['invitations'], operationId: 'acceptInvitation', summary: 'Accept an invitation with the mailed token', body: AcceptBody, response: { ...errorResponses({ 404: ['not_found'], 409: ['duplicate_resource'], 422: ['invalid_state'] }), 200: AcceptResponse } },
  }, async (request) => {
    const { principal } = requireAuth(request.auth);
    if (principal.kind !== 'user') throw new AppError('forbidden', 'This endpoint requires a signed-in user');
    const result = await invitations.accept({ userId: principal.userId, meta: requestMeta(request) }, request.body.token);
    return { tenantId: result.tenantId, role: result.role };
  });
};
