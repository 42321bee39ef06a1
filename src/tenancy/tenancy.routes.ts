import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { TenancyService } from './tenancy.service.js';
import type { EventHub } from '../shared/events.js';
import { type AuthContext, requireAuth, SIGNED_IN, tenantPermission } from '../access/index.js';
import { AppError } from '../errors/index.js';
import { requestMeta } from '../http/request-meta.js';
import { PageQuery, TenantParams } from '../http/schemas.js';
import { isUuid } from '../shared/ids.js';
import { AddMemberBody, ChangeRoleBody, CreateTenantBody, MemberPage, MemberParams, MemberSchema, TenantResponse } from './tenancy.schemas.js';

/** What these routes use of the app's services. */
export interface TenancyRouteDeps {
  readonly tenancy: TenancyService;
  readonly events: EventHub;
}


/** Tenants and members. The tenant is always the `:tenantId` path parameter, never a body field. */
export const tenancyRoutes: FastifyPluginAsyncTypebox<{ services: TenancyRouteDeps }> = async (app, { services }) => {
  const { tenancy, events } = services;
  const actorId = (auth: AuthContext) =>
    auth.principal.kind === 'user' ? auth.principal.userId : auth.principal.creatorUserId;

  app.post('/api/tenants', {
    config: { access: SIGNED_IN },
    schema: { tags: ['tenants'], body: CreateTenantBody, response: { 201: TenantResponse } },
  }, async (request, reply) => {
    const { principal } = requireAuth(request.auth);
    if (principal.kind !== 'user') throw new AppError('forbidden');
    const tenant = await tenancy.createTenant(principal.userId, request.body);
    events.emit('tenant.created', { tenantId: tenant.id, userId: principal.userId, meta: requestMeta(request) });
    return reply.code(201).send(tenant);
  });

  app.get('/api/tenants/:tenantId', {
    config: { access: tenantPermission('tenant.read') },
    schema: { tags: ['tenants'], params: TenantParams, response: { 200: TenantResponse } },
  }, async (request) => tenancy.getTenant(request.params.tenantId));

  app.get('/api/tenants/:tenantId/members', {
    config: { access: tenantPermission('members.read') },
    schema: { tags: ['members'], params: TenantParams, querystring: PageQuery, response: { 200: MemberPage } },
  }, async (request) => tenancy.listMembers(request.params.tenantId, request.query));

  app.post('/api/tenants/:tenantId/members', {
    config: { access: tenantPermission('members.create') },
    schema: { tags: ['members'], params: TenantParams, body: AddMemberBody, response: { 201: MemberSchema } },
  }, async (request, reply) => {
    const auth = requireAuth(request.auth);
    const member = await tenancy.addMember(request.params.tenantId, auth.role ?? 'guest', request.body);
    events.emit('member.added', {
      tenantId: request.params.tenantId,
      actorUserId: actorId(auth),
      userId: member.userId,
      role: member.role,
      meta: requestMeta(request),
    });
    return reply.code(201).send(member);
  });

  app.patch('/api/tenants/:tenantId/members/:userId', {
    config: { access: tenantPermission('members.write') },
    schema: { tags: ['members'], params: MemberParams, body: ChangeRoleBody, response: { 200: MemberSchema } },
  }, async (request) => {
    const auth = requireAuth(request.auth);
    const { tenantId, userId } = request.params;
    if (!isUuid(userId)) throw new AppError('not_found', 'Member not found');
    const { previous } = await tenancy.changeRole(tenantId, auth.role ?? 'guest', userId, request.body.role);
    events.emit('member.role_change', {
      tenantId,
      actorUserId: actorId(auth),
      userId,
      from: previous,
      to: request.body.role,
      meta: requestMeta(request),
    });
    const page = await tenancy.getMember(tenantId, userId);
    if (!page) throw new AppError('not_found', 'Member not found');
    return page;
  });

  app.delete('/api/tenants/:tenantId/members/:userId', {
    config: { access: tenantPermission('members.delete') },
    schema: { tags: ['members'], params: MemberParams },
  }, async (request, reply) => {
    const auth = requireAuth(request.auth);
    const { tenantId, userId } = request.params;
    if (!isUuid(userId)) throw new AppError('not_found', 'Member not found');
    await tenancy.removeMember(tenantId, auth.role ?? 'guest', userId);
    events.emit('member.removed', { tenantId, actorUserId: actorId(auth), userId, meta: requestMeta(request) });
    return reply.code(204).send();
  });
};
