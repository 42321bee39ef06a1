import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PUBLIC, PUBLIC_OR_SIGNED_IN } from '../access/index.js';
import { AppError } from '../errors/index.js';
import { requestMeta } from '../http/request-meta.js';
import { errorResponses, IdempotencyHeaders, idempotentErrors, PageQuery } from '../http/schemas.js';
import {
  AvailabilityQuery,
  AvailabilityResponse,
  ManagedReservation,
  ManageRescheduleBody,
  ManageTokenBody,
  PublicReservationCreate,
  PublicTenant,
  ReservationSchema,
  ServicePage,
  SlugParams,
} from './booking.schemas.js';
import type { BookingRouteDeps } from './booking-services.js';

const P = '/api/public/tenants/:slug';
const M = '/api/public/manage';

/**
 * Public booking by tenant slug: browse without an account, book as a guest (name + email) or
 * as a signed-in user; guests manage their booking through the emailed link (ADR 0018).
 */
export const publicBookingRoutes: FastifyPluginAsyncTypebox<{ services: BookingRouteDeps }> = async (
  app,
  { services },
) => {
  const { booking } = services;
  const { publicBooking, manage, availability } = booking;

  app.get(P, {
    config: { access: PUBLIC },
    schema: { tags: ['public'], operationId: 'getPublicTenant', summary: 'Public profile of a tenant, by slug', security: [], params: SlugParams, response: { ...errorResponses({ 404: ['not_found'] }), 200: PublicTenant } },
  }, async (request) => publicBooking.tenant(request.params.slug));

  app.get(`${P}/services`, {
    config: { access: PUBLIC },
    schema: { tags: ['public'], operationId: 'listPublicServices', summary: 'Active services of a tenant, by slug', security: [], params: SlugParams, querystring: PageQuery, response: { ...errorResponses({ 404: ['not_found'] }), 200: ServicePage } },
  }, async (request) => publicBooking.services(request.params.slug, request.query));

  app.get(`${P}/availability`, {
    config: { access: PUBLIC_OR_SIGNED_IN, rateLimit: 'availability' },
    schema: {
      tags: ['public'], operationId: 'getPublicAvailability',
      summary: 'Bookable slots of a service, by tenant slug (no account needed; a signed-in user at the per-customer limit is offered none)',
      security: [], params: SlugParams, querystring: AvailabilityQuery,
      response: { ...errorResponses({ 401: ['invalid_token', 'token_expired'], 404: ['not_found'] }), 200: AvailabilityResponse },
    },
  }, async (request) => {
    const principal = request.auth?.principal;
    // Only a signed-in user is a known customer; a guest (or an API key) gets the plain list.
    const reached = principal?.kind === 'user' ? await availability.customerLimitFor(request.params.slug, principal.userId) : null;
    const page = await publicBooking.availability(request.params.slug, request.query);
    return reached ? { slots: [], nextCursor: null, bookingLimitReached: reached } : page;
  });

  app.post(`${P}/reservations`, {
    config: { access: PUBLIC_OR_SIGNED_IN, idempotent: true },
    schema: {
      tags: ['public'],
      operationId: 'createPublicReservation',
      summary: 'Book as a guest (name + email, no account) or as the signed-in user',
      headers: IdempotencyHeaders,
      params: SlugParams,
      body: PublicReservationCreate,
      response: {
        201: ReservationSchema,
        ...idempotentErrors({ 401: ['invalid_token', 'token_expired'], 403: ['forbidden', 'email_not_verified'], 404: ['not_found'], 409: ['conflict'], 422: ['slot_unavailable', 'outside_booking_window', 'booking_limit_reached'], 429: ['quota_exceeded'] }),
      },
    },
  }, async (request, reply) => {
    const meta = requestMeta(request);
    const { customer, ...rest } = request.body;
    const principal = request.auth?.principal;
    if (principal) {
      if (principal.kind !== 'user') throw new AppError('forbidden', 'This endpoint requires a signed-in user');
      if (customer) {
        throw new AppError('validation_error', undefined, [{ field: 'customer', in: 'body', message: 'is for guest bookings; a signed-in user books as themselves' }]);
      }
      const { reservation } = await publicBooking.book(request.params.slug, { userId: principal.userId, meta }, rest);
      return reply.code(201).send(reservation);
    }
    if (!customer) {
      throw new AppError('validation_error', undefined, [{ field: 'customer', in: 'body', message: 'is required without a sign-in (guest booking)' }]);
    }
    const { reservation } = await publicBooking.bookAsGuest(request.params.slug, { ip: request.ip }, { ...rest, customer });
    return reply.code(201).send(reservation);
  });

  // Manage links. The token travels in a JSON body (never a URL, ASVS 3.1.1; `token` is a
  // redacted log field) and these routes count like credential endpoints (`auth`: fail closed).
  const manageErrors = errorResponses({ 400: ['validation_error'], 404: ['not_found'], 429: ['quota_exceeded'] });

  app.post(`${M}/reservation`, {
    config: { access: PUBLIC, rateLimit: 'auth' },
    schema: {
      tags: ['public'], security: [], operationId: 'viewManagedReservation', summary: 'Show the booking a manage link names',
      body: ManageTokenBody, response: { 200: ManagedReservation, ...manageErrors, ...errorResponses({ 422: ['invalid_state'] }) },
    },
  }, async (request) => manage.view(request.body.token));

  app.post(`${M}/confirm`, {
    config: { access: PUBLIC, rateLimit: 'auth' },
    schema: {
      tags: ['public'], security: [], operationId: 'confirmManagedReservation', summary: 'Confirm a pending guest booking',
      body: ManageTokenBody, response: { 200: ManagedReservation, ...manageErrors, ...errorResponses({ 422: ['invalid_state'] }) },
    },
  }, async (request) => manage.confirm(request.body.token));

  app.post(`${M}/cancel`, {
    config: { access: PUBLIC, rateLimit: 'auth' },
    schema: {
      tags: ['public'], security: [], operationId: 'cancelManagedReservation', summary: 'Cancel a guest booking (uses up the link)',
      body: ManageTokenBody, response: { 200: ManagedReservation, ...manageErrors, ...errorResponses({ 422: ['invalid_state'] }) },
    },
  }, async (request) => manage.cancel(request.body.token));

  app.post(`${M}/reschedule`, {
    config: { access: PUBLIC, rateLimit: 'auth' },
    schema: {
      tags: ['public'], security: [], operationId: 'rescheduleManagedReservation', summary: 'Move a guest booking (uses up the link; a new one is mailed)',
      body: ManageRescheduleBody,
      response: { 200: ManagedReservation, ...manageErrors, ...errorResponses({ 409: ['conflict'], 422: ['invalid_state', 'slot_unavailable', 'outside_booking_window', 'booking_limit_reached'] }) },
    },
  }, async (request) => manage.reschedule(request.body.token, request.body.start));
};
