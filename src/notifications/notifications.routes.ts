import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PUBLIC, requestActor, tenantPermission, type Actor } from '../access/index.js';
import { AppError } from '../errors/index.js';
import { errorResponses, NoContent } from '../http/schemas.js';
import type { FeedOwnerKind } from './notifications.repo.js';
import { CalendarBody, CalendarFeedSchema, FeedFileParams, FeedOwnerParams } from './notifications.schemas.js';
import type { NotificationsService } from './notifications.service.js';

const T = '/api/tenants/:tenantId';

/**
 * Who may issue or revoke an owner's feed (docs/booking.md): the person linked to the staff
 * member or customer record, or a manager (`availability.write` for staff feeds,
 * `reservations.read` for customer feeds). People only: a feed URL is a credential.
 */
const OVERRIDE: Record<FeedOwnerKind, 'availability.write' | 'reservations.read'> = { staff: 'availability.write', customer: 'reservations.read' };

async function assertFeedOwner(notifications: NotificationsService, tenantId: string, actor: Actor, owner: { kind: FeedOwnerKind; id: string }): Promise<void> {
  const record = await notifications.ownerUser(tenantId, owner);
  if (!record) throw new AppError('not_found', owner.kind === 'staff' ? 'Staff member not found' : 'Customer not found');
  if (actor.can(OVERRIDE[owner.kind]) || (record.userId !== null && record.userId === actor.userId)) return;
  // The pipeline let the caller in on `reservations:own.read`; what they lack is the manager's permission.
  throw new AppError('insufficient_permissions', 'Only the person themself or a manager can manage this calendar link', {
    required: OVERRIDE[owner.kind],
    role: actor.role,
  });
}

/** Feed URLs per staff member and per customer record, and the public feed itself. */
export const notificationRoutes: FastifyPluginAsyncTypebox<{ notifications: NotificationsService }> = async (app, { notifications }) => {
  for (const kind of ['staff', 'customer'] as const) {
    const path = `${T}/${kind === 'staff' ? 'staff' : 'customers'}/:id/calendar-feed`;
    const Kind = kind === 'staff' ? 'Staff' : 'Customer';
    const who = kind === 'staff' ? 'staff member' : 'customer';

    app.post(path, {
      config: { access: tenantPermission('reservations:own.read', { apiKeys: false }) },
      schema: {
        tags: ['calendar'],
        operationId: `create${Kind}CalendarFeed`,
        summary: `Issue (or rotate) the iCal feed URL of a ${who}; the previous URL stops working`,
        params: FeedOwnerParams,
        response: { ...errorResponses({ 403: ['insufficient_permissions'], 404: ['not_found'] }), 201: CalendarFeedSchema },
      },
    }, async (request, reply) => {
      const actor = requestActor(request);
      const owner = { kind, id: request.params.id };
      await assertFeedOwner(notifications, request.params.tenantId, actor, owner);
      const feed = await notifications.createFeed(request.params.tenantId, owner, actor.userId);
      return reply.code(201).send(feed);
    });

    app.delete(path, {
      config: { access: tenantPermission('reservations:own.read', { apiKeys: false }) },
      schema: {
        tags: ['calendar'],
        operationId: `revoke${Kind}CalendarFeed`,
        summary: `Revoke the iCal feed URL of a ${who}`,
        params: FeedOwnerParams,
        response: { ...errorResponses({ 403: ['insufficient_permissions'], 404: ['not_found'] }), 204: NoContent },
      },
    }, async (request, reply) => {
      const actor = requestActor(request);
      const owner = { kind, id: request.params.id };
      await assertFeedOwner(notifications, request.params.tenantId, actor, owner);
      await notifications.revokeFeed(request.params.tenantId, owner);
      return reply.code(204).send();
    });
  }

  // The token in the path is the credential (calendar clients send no headers); the request log
  // records the route pattern, never the URL, so it stays out of the logs (ASVS 7.1.1).
  app.get('/api/public/calendar/:file', {
    config: { access: PUBLIC },
    schema: {
      tags: ['public'],
      operationId: 'getCalendarFeed',
      summary: 'iCal feed of upcoming reservations, by feed token (text/calendar)',
      security: [],
      params: FeedFileParams,
      response: { ...errorResponses({ 404: ['not_found'] }), 200: { description: 'text/calendar (RFC 5545)', content: { 'text/calendar': { schema: CalendarBody } } } },
    },
  }, async (request, reply) => {
    const body = await notifications.feed(request.params.file);
    return reply.type('text/calendar; charset=utf-8').header('content-disposition', 'inline; filename="bookings.ics"').send(body);
  });
};
