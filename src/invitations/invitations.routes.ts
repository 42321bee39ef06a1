import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { EventHub } from '../shared/events.js';
import type { Config } from '../config/config.js';
import type { Clock } from '../shared/clock.js';
import type { Database } from '../db/index.js';
import type { MailTransport } from '../mail/index.js';
import type { MembershipResolver } from '../tenancy/memberships.cache.js';
import type { TenancyService } from '../tenancy/tenancy.service.js';
import { requireAuth, SIGNED_IN, tenantPermission } from '../access/index.js';
import { AppError } from '../errors/index.js';
import { requestMeta } from '../http/request-meta.js';
import { PageQuery, TenantParams } from '../http/schemas.js';
import { AcceptBody, AcceptResponse, InvitationCreate, InvitationCreated, InvitationPage, InvitationParams } from './invitations.schemas.js';
import { createInvitationsService, toWireInvitation } from './invitations.service.js';

/** What these routes use of the app's services. */
export interface InvitationRouteDeps {
  readonly events: EventHub;
  readonly config: Config;
  readonly clock: Clock;
  readonly db: Database;
  readonly mail: MailTransport;
  readonly memberships: MembershipResolver;
  readonly tenancy: TenancyService;
}


/** Invite by email (tenant side) and accept with the mailed one-time token (user side). */
export const invitationRoutes: FastifyPluginAsyncTypebox<{ services: InvitationRouteDeps }> = async (app, { services }) => {
  const { events, config } = services;
  const invitations = createInvitationsService({
    db: services.db,
    clock: services.clock,
    mail: services.mail,
    memberships: services.memberships,
    tenantName: async (tenantId) => (await services.tenancy.getTenant(tenantId)).name,
  });
  const actorId = (auth: ReturnType<typeof requireAuth>) =>
    auth.principal.kind === 'user' ? auth.principal.userId : auth.principal.creatorUserId;

  app.post('/api/tenants/:tenantId/invitations', {
    config: { access: tenantPermission('invitations.create') },
    schema: { tags: ['invitations'], params: TenantParams, body: InvitationCreate, response: { 201: InvitationCreated } },
  }, async (request, reply) => {
    const auth = requireAuth(request.auth);
    const { tenantId } = request.params;
    const { invitation, token } = await invitations.create(tenantId, { userId: actorId(auth), role: auth.role ?? 'guest' }, request.body);
    events.emit('invitation.created', {
      tenantId,
      invitationId: invitation.id,
      actorUserId: actorId(auth),
      email: invitation.email,
      role: invitation.role,
      meta: requestMeta(request),
    });
    // The token travels by mail; echoing it is a development convenience only.
    return reply.code(201).send({ ...toWireInvitation(invitation), ...(config.env === 'production' ? {} : { token }) });
  });

  app.get('/api/tenants/:tenantId/invitations', {
    config: { access: tenantPermission('invitations.read') },
    schema: { tags: ['invitations'], params: TenantParams, querystring: PageQuery, response: { 200: InvitationPage } },
  }, async (request) => invitations.list(request.params.tenantId, request.query));

  app.delete('/api/tenants/:tenantId/invitations/:id', {
    config: { access: tenantPermission('invitations.delete') },
    schema: { tags: ['invitations'], params: InvitationParams },
  }, async (request, reply) => {
    const auth = requireAuth(request.auth);
    await invitations.revoke(request.params.tenantId, request.params.id);
    events.emit('invitation.revoked', {
      tenantId: request.params.tenantId,
      invitationId: request.params.id,
      actorUserId: actorId(auth),
      meta: requestMeta(request),
    });
    return reply.code(204).send();
  });

  app.post('/api/invitations/accept', {
    config: { access: SIGNED_IN },
    schema: { tags: ['invitations'], body: AcceptBody, response: { 200: AcceptResponse } },
  }, async (request) => {
    const { principal } = requireAuth(request.auth);
    if (principal.kind !== 'user') throw new AppError('forbidden', 'This endpoint requires a signed-in user');
    const result = await invitations.accept(principal.userId, request.body.token);
    events.emit('invitation.accepted', {
      tenantId: result.tenantId,
      invitationId: result.invitationId,
      userId: principal.userId,
      role: result.role,
      meta: requestMeta(request),
    });
    return { tenantId: result.tenantId, role: result.role };
  });
};
