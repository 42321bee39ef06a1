import type { Database } from '../db/index.js';
import type { Clock } from '../shared/clock.js';
import type { EventHub } from '../shared/events.js';
import type { MembershipResolver } from '../tenancy/memberships.cache.js';
import { createAvailabilityService } from './availability.service.js';
import { createCustomersService } from './customers.service.js';
import { createPublicBookingService } from './public.service.js';
import { createReservationsService } from './reservations.service.js';
import { createServicesService } from './services.service.js';
import { createSettingsService } from './settings.service.js';
import { createStaffService } from './staff.service.js';

/** The booking capability's services, built from the app's ports. */
export function createBookingServices(services: { db: Database; clock: Clock; events: EventHub; memberships: MembershipResolver }) {
  const { db, clock, events } = services;
  const availability = createAvailabilityService({ db, clock });
  const reservations = createReservationsService({ db, clock, events });
  return {
    settings: createSettingsService({ db }),
    catalog: createServicesService({ db }),
    staff: createStaffService({ db }),
    customers: createCustomersService({ db, events }),
    availability,
    reservations,
    publicBooking: createPublicBookingService({ db, clock, events, memberships: services.memberships, availability, reservations }),
  };
}

export type BookingServices = ReturnType<typeof createBookingServices>;


/** What the booking routes use: the booking services (built in buildServices) and the event hub. */
export interface BookingRouteDeps {
  readonly booking: BookingServices;
  readonly events: EventHub;
}
