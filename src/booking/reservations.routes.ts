import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requireAuth, tenantPermission } from '../access/index.js';
import { requestMeta } from '../http/request-meta.js';
import { TenantParams } from '../http/schemas.js';
import { actorFrom } from './actor.js';
import { IdParams, ReservationCreate, ReservationPage, ReservationPatch, ReservationQuery, ReservationSchema } from './booking.schemas.js';
import type { BookingRouteDeps } from './booking-services.js';
import { iso } from './wire.js';

const T = '/api/tenants/:tenantId';

/**
 * Reservations. The route permission is the `:own` one every customer holds; the service then
 * narrows what the caller sees and may change (staff: assigned to them; customers: their own;
 * manager and above: everything).
 */
export const reservationRoutes: FastifyPluginAsyncTypebox<{ services: BookingRouteDeps }> = async (
  app,
  { services },
) => {
  const { booking } = services;
  const { reservations } = booking;
  const { events } = services;

  app.get(`${T}/reservations`, {
    config: { access: tenantPermission('reservations:own.read') },
    schema: { tags: ['reservations'], params: TenantParams, querystring: ReservationQuery, response: { 200: ReservationPage } },
  }, async (request) => reservations.list(request.params.tenantId, actorFrom(requireAuth(request.auth)), request.query));

  app.post(`${T}/reservations`, {
    config: { access: tenantPermission('reservations:own.create') },
    schema: { tags: ['reservations'], params: TenantParams, body: ReservationCreate, response: { 201: ReservationSchema } },
  }, async (request, reply) => {
    const actor = actorFrom(requireAuth(request.auth));
    const { tenantId } = request.params;
    const r = await reservations.create(tenantId, actor, request.body);
    events.emit('reservation.created', {
      tenantId,
      reservationId: r.id,
      actorUserId: actor.userId,
      staffId: r.staffId,
      customerId: r.customerId,
      start: r.start,
      end: r.end,
      channel: 'tenant',
      meta: requestMeta(request),
    });
    return reply.code(201).send(r);
  });

  app.get(`${T}/reservations/:id`, {
    config: { access: tenantPermission('reservations:own.read') },
    schema: { tags: ['reservations'], params: IdParams, response: { 200: ReservationSchema } },
  }, async (request) => reservations.get(request.params.tenantId, actorFrom(requireAuth(request.auth)), request.params.id));

  app.patch(`${T}/reservations/:id`, {
    config: { access: tenantPermission('reservations:own.cancel') },
    schema: { tags: ['reservations'], params: IdParams, body: ReservationPatch, response: { 200: ReservationSchema } },
  }, async (request) => {
    const actor = actorFrom(requireAuth(request.auth));
    const { tenantId, id } = request.params;
    const { previous, kind, current } = await reservations.update(tenantId, actor, id, request.body);
    const meta = requestMeta(request);
    if (kind === 'status') {
      events.emit('reservation.status_changed', { tenantId, reservationId: id, actorUserId: actor.userId, from: previous.status, to: current.status, meta });
    } else {
      events.emit('reservation.rescheduled', {
        tenantId,
        reservationId: id,
        actorUserId: actor.userId,
        from: { start: iso(previous.start), end: iso(previous.end) },
        to: { start: current.start, end: current.end },
        meta,
      });
    }
    return current;
  });
};
