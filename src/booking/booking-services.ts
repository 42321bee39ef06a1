import type { CacheBus } from '../cache/invalidation-bus.js';
import { createInProcessBus } from '../cache/in-process-bus.js';
import type { Database } from '../db/index.js';
import type { JobQueue } from '../jobs/index.js';
import { createBookingEffects, type BookingEffects, type RecordReservationEffects } from './booking-effects.js';
import type { MailTransport } from '../mail/index.js';
import type { CalendarInvite } from './booking-mail.js';
import type { Clock } from '../shared/clock.js';
import type { EventHub } from '../shared/events.js';
import type { MembershipResolver } from '../tenancy/memberships.cache.js';
import { createAvailabilityService, type AvailabilityService } from './availability.service.js';
import { createClosuresService, type ClosuresService } from './closures.service.js';
import { createCustomersService, type CustomersService } from './customers.service.js';
import { createManageService, type ManageService } from './manage.service.js';
import { createPublicBookingService, type PublicBookingService } from './public.service.js';
import { createPublicOrigins, type PublicOrigins } from './public-origins.service.js';
import { createReservationsService, type ReservationsService } from './reservations.service.js';
import { createServicesService, type ServicesService } from './services.service.js';
import { createSettingsService, type SettingsService } from './settings.service.js';
import { createStaffService, type StaffService } from './staff.service.js';

/** The booking capability's services. */
export interface BookingServices {
  readonly settings: SettingsService;
  /** The services a tenant offers (what can be booked). */
  readonly catalog: ServicesService;
  readonly staff: StaffService;
  readonly customers: CustomersService;
  readonly availability: AvailabilityService;
  readonly reservations: ReservationsService;
  /** The unauthenticated booking flow, built on availability and reservations. */
  readonly publicBooking: PublicBookingService;
  /** Each tenant's CORS allow-list for its public routes, by slug (cached, bus-invalidated). */
  readonly publicOrigins: PublicOrigins;
  /** Guest self-service through emailed manage links (ADR 0018). */
  readonly manage: ManageService;
  /** Tenant-wide closures (holidays), applied to every staff member's availability. */
  readonly closures: ClosuresService;
  /** The outbox of reservation changes, and the lapsed-hold sweeper the cleanup job calls (ADR 0024). */
  readonly effects: BookingEffects;
}

export type { CalendarInvite } from './booking-mail.js';

/** The booking capability's services, built from the app's ports. */
export function createBookingServices(services: {
  db: Database;
  clock: Clock;
  events: EventHub;
  memberships: MembershipResolver;
  /** Carries settings changes to every instance's origin cache; in-process when absent. */
  bus?: CacheBus;
  cacheTtlSeconds?: number;
  mail: MailTransport;
  /** PUBLIC_URL: the base of every link in guest mails. */
  publicUrl: string;
  /** Guest budgets per client IP and per email hash (429 when spent). */
  spendGuestBooking: (ip: string, emailHash: string) => Promise<void>;
  onMailError: (err: unknown) => void;
  /** The durable job queue: booking's outbox (ADR 0024). */
  jobs: JobQueue;
  /** BOKA_SECRET_KEY: seals manage tokens in guest mail jobs. */
  secretKey: Buffer;
  /** Webhook messages and customer mail of a change, written in its transaction (buildServices). */
  recordEffects: RecordReservationEffects;
  /** JOBS_RUN_AFTER_COMMIT. */
  runAfterCommit: boolean;
  /**
   * The reservation's .ics for the guest mails booking sends itself (booking confirmation,
   * reschedule), so a guest gets one mail per event; built by src/notifications in buildServices.
   */
  calendarInvite?: CalendarInvite;
}): BookingServices {
  const { db, clock, events, mail, publicUrl, onMailError } = services;
  const calendarInvite: CalendarInvite = services.calendarInvite ?? (async () => null);
  const bus = services.bus ?? createInProcessBus();
  const availability = createAvailabilityService({ db, clock });
  const effects = createBookingEffects({
    db, jobs: services.jobs, secretKey: services.secretKey, record: services.recordEffects, runAfterCommit: services.runAfterCommit,
    mail, publicUrl, calendarInvite, onMailError,
  });
  const reservations = createReservationsService({ db, clock, effects });
  return {
    settings: createSettingsService({ db, bus }),
    catalog: createServicesService({ db }),
    staff: createStaffService({ db }),
    customers: createCustomersService({ db, events }),
    availability,
    reservations,
    publicBooking: createPublicBookingService({
      db, clock, events, memberships: services.memberships, availability, reservations, effects, spendGuestBooking: services.spendGuestBooking,
    }),
    manage: createManageService({ db, clock, reservations, effects }),
    publicOrigins: createPublicOrigins({ db, bus, clock, ttlSeconds: services.cacheTtlSeconds ?? 60, max: 10_000 }),
    closures: createClosuresService({ db }),
    effects,
  };
}

/** What the booking routes use: the booking services (built in buildServices) and the event hub. */
export interface BookingRouteDeps {
  readonly booking: BookingServices;
  readonly events: EventHub;
}
