import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PUBLIC, requireAuth, SIGNED_IN } from '../access/index.js';
import { AppError } from '../errors/index.js';
import { requestMeta } from '../http/request-meta.js';
import { errorResponses, PageQuery } from '../http/schemas.js';
import {
  AvailabilityQuery,
  AvailabilityResponse,
  PublicReservationCreate,
  PublicTenant,
  ReservationSchema,
  ServicePage,
  SlugParams,
} from './booking.schemas.js';
import type { BookingRouteDeps } from './booking-services.js';

const P = '/api/public/tenants/:slug';

/** Public booking by tenant slug: browse without an account, book as any signed-in user. */
export const publicBookingRoutes: FastifyPluginAsyncTypebox<{ services: BookingRouteDeps }> = async (
  app,
  { services },
) => {
  const { booking } = services;
  const { publicBooking } = booking;

  app.get(P, {
    config: { access: PUBLIC },
    schema: { tags: ['public'], operationId: 'getPublicTenant', summary: 'Public profile of a tenant, by slug', security: [], params: SlugParams, response: { ...errorResponses({ 404: ['not_found'] }), 200: PublicTenant } },
  }, async (request) => publicBooking.tenant(request.params.slug));

  app.get(`${P}/services`, {
    config: { access: PUBLIC },
    schema: { tags: ['public'], operationId: 'listPublicServices', summary: 'Active services of a tenant, by slug', security: [], params: SlugParams, querystring: PageQuery, response: { ...errorResponses({ 404: ['not_found'] }), 200: ServicePage } },
  }, async (request) => publicBooking.services(request.params.slug, request.query));

  app.get(`${P}/availability`, {
    config: { access: PUBLIC, rateLimit: 'availability' },
    schema: { tags: ['public'], operationId: 'getPublicAvailability', summary: 'Bookable slots of a service, by tenant slug (no account needed)', security: [], params: SlugParams, querystring: AvailabilityQuery, response: { ...errorResponses({ 404: ['not_found'] }), 200: AvailabilityResponse } },
  }, async (request) => publicBooking.availability(request.params.slug, request.query));

  app.post(`${P}/reservations`, {
    config: { access: SIGNED_IN },
    schema: { tags: ['public'], operationId: 'createPublicReservation', summary: 'Book a slot as the signed-in user, by tenant slug', params: SlugParams, body: PublicReservationCreate, response: { ...errorResponses({ 404: ['not_found'], 409: ['conflict'], 422: ['slot_unavailable'] }), 201: ReservationSchema } },
  }, async (request, reply) => {
    const { principal } = requireAuth(request.auth);
    if (principal.kind !== 'user') throw new AppError('forbidden', 'This endpoint requires a signed-in user');
    const { reservation } = await publicBooking.book(request.params.slug, { userId: principal.userId, meta: requestMeta(request) }, request.body);
    return reply.code(201).send(reservation);
  });
};
