import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppServices } from '../app-services.js';
import { createAvailabilityService } from './availability.service.js';
import { bookingAdminRoutes } from './booking.routes.js';
import { createCustomersService } from './customers.service.js';
import { createPublicBookingService } from './public.service.js';
import { publicBookingRoutes } from './public.routes.js';
import { createReservationsService } from './reservations.service.js';
import { reservationRoutes } from './reservations.routes.js';
import { createServicesService } from './services.service.js';
import { createSettingsService } from './settings.service.js';
import { createStaffService } from './staff.service.js';

/** The booking capability's services, built from the app's ports. */
export function createBookingServices(services: Pick<AppServices, 'db' | 'clock' | 'memberships'>) {
  const { db, clock } = services;
  const availability = createAvailabilityService({ db, clock });
  const reservations = createReservationsService({ db, clock });
  return {
    settings: createSettingsService({ db }),
    catalog: createServicesService({ db }),
    staff: createStaffService({ db }),
    customers: createCustomersService({ db }),
    availability,
    reservations,
    publicBooking: createPublicBookingService({ db, clock, memberships: services.memberships, availability, reservations }),
  };
}

export type BookingServices = ReturnType<typeof createBookingServices>;

/** Every booking route: tenant administration, reservations, public booking. Register once in buildApp. */
export const bookingRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  const booking = createBookingServices(services);
  await app.register(bookingAdminRoutes, { services, booking });
  await app.register(reservationRoutes, { services, booking });
  await app.register(publicBookingRoutes, { services, booking });
};
