import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { BookingRouteDeps } from './booking-services.js';
import { bookingAdminRoutes } from './booking.routes.js';
import { publicBookingRoutes } from './public.routes.js';
import { reservationRoutes } from './reservations.routes.js';

export { GUEST_MAIL_JOB, type BookingEffects, type RecordReservationEffects } from './booking-effects.js';
export { createBookingServices, type BookingRouteDeps, type BookingServices, type CalendarInvite } from './booking-services.js';


/** Every booking route: tenant administration, reservations, public booking. Register once in buildApp. */
export const bookingRoutes: FastifyPluginAsyncTypebox<{ services: BookingRouteDeps }> = async (app, { services }) => {
  await app.register(bookingAdminRoutes, { services });
  await app.register(reservationRoutes, { services });
  await app.register(publicBookingRoutes, { services });
};
