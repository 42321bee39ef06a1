import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requestActor, requireTenantId, tenantPermission } from '../access/index.js';
import { errorResponses, IdempotencyHeaders, idempotentErrors, TenantParams } from '../http/schemas.js';
import { IdParams, ReservationCreate, ReservationPage, ReservationPatch, ReservationQuery, ReservationSchema } from './booking.schemas.js';
import type { BookingRouteDeps } from './booking-services.js';

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

  app.get(`${T}/reservations`, {
    config: { access: tenantPermission('reservations:own.read') },
    schema: { tags: ['reservations'], operationId: 'listReservations', summary: 'List the reservations the caller may see', params: TenantParams, querystring: ReservationQuery, response: { 200: ReservationPage } },
  }, async (request) => reservations.list(requireTenantId(request.auth), requestActor(request), request.query));

  app.post(`${T}/reservations`, {
    config: { access: tenantPermission('reservations:own.create'), idempotent: true },
    schema: {
      tags: ['reservations'],
      operationId: 'createReservation',
      summary: 'Book a reservation inside the tenant',
      headers: IdempotencyHeaders,
      params: TenantParams,
      body: ReservationCreate,
      response: {
        201: ReservationSchema,
        ...idempotentErrors({ 403: ['insufficient_permissions', 'email_not_verified'], 404: ['not_found'], 409: ['conflict'], 422: ['slot_unavailable', 'outside_booking_window', 'booking_limit_reached'] }),
      },
    },
  }, async (request, reply) => {
    const r = await reservations.create(requireTenantId(request.auth), requestActor(request), request.body);
    return reply.code(201).send(r);
  });

  app.get(`${T}/reservations/:id`, {
    config: { access: tenantPermission('reservations:own.read') },
    schema: { tags: ['reservations'], operationId: 'getReservation', summary: 'Get a reservation', params: IdParams, response: { 200: ReservationSchema } },
  }, async (request) => reservations.get(requireTenantId(request.auth), requestActor(request), request.params.id));

  app.patch(`${T}/reservations/:id`, {
    config: { access: tenantPermission('reservations:own.cancel') },
    schema: {
      tags: ['reservations'],
      operationId: 'updateReservation',
      summary: 'Change a reservation’s status or reschedule it',
      params: IdParams,
      body: ReservationPatch,
      response: {
        200: ReservationSchema,
        ...errorResponses({ 400: ['validation_error'], 403: ['insufficient_permissions'], 404: ['not_found'], 409: ['conflict'], 422: ['invalid_state', 'slot_unavailable', 'outside_booking_window', 'booking_limit_reached'] }),
      },
    },
  }, async (request) => reservations.update(requireTenantId(request.auth), requestActor(request), request.params.id, request.body));
};
