import { Type } from '@fastify/type-provider-typebox';
import { Defaulted, IsoDate, pageOf, PageQuery, Uuid } from '../http/schemas.js';
import { DEFAULT_SLOTS_PER_PAGE, MAX_SLOTS_PER_PAGE } from './availability.core.js';
import { MAX_ORIGIN_LENGTH } from '../shared/origins.js';
import { MAX_ALLOWED_ORIGINS } from './settings.repo.js';

/** Wire schemas of the booking domain. camelCase JSON; instants ISO 8601, returned in UTC. */

const Id = Type.String({ maxLength: 64 });
const Currency = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code, e.g. EUR' });
const Clock = Type.String({ pattern: '^([01][0-9]|2[0-4]):[0-5][0-9]$', description: 'local time HH:MM' });
const Minutes = (max: number) => Type.Integer({ minimum: 0, maximum: max });

export const IdParams = Type.Object({ tenantId: Id, id: Id }, { additionalProperties: false });
export const TimeOffParams = Type.Object({ tenantId: Id, id: Id, timeOffId: Id }, { additionalProperties: false });

// Settings
export const SettingsSchema = Type.Object({
  timezone: Type.String(),
  currency: Currency,
  leadTimeMinutes: Type.Integer(),
  cancellationCutoffMinutes: Type.Integer(),
  allowedOrigins: Type.Array(Type.String(), { description: 'Web origins a booking widget may call the public routes from (CORS)' }),
  requireVerifiedEmail: Type.Boolean(),
  guestAutoConfirm: Type.Boolean(),
  guestHoldMinutes: Type.Integer(),
  reminderLeadMinutes: Type.Integer(),
  bookingHorizonDays: Type.Union([Type.Integer(), Type.Null()], { description: 'a booking may start at most this many days after now; null = no horizon' }),
  maxBookingsPerStaffDay: Type.Union([Type.Integer(), Type.Null()], { description: 'active bookings per staff member per local date; null = unlimited' }),
  maxFutureBookingsPerCustomer: Type.Union([Type.Integer(), Type.Null()], { description: 'active future bookings per customer; null = unlimited' }),
});
export const SettingsPatch = Type.Object(
  {
    timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone, e.g. Europe/Berlin' })),
    currency: Type.Optional(Currency),
    leadTimeMinutes: Type.Optional(Minutes(525_600)),
    cancellationCutoffMinutes: Type.Optional(Minutes(525_600)),
    allowedOrigins: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: MAX_ORIGIN_LENGTH, pattern: '^https?://' }), {
        maxItems: MAX_ALLOWED_ORIGINS,
        description: 'Canonical origins scheme://host[:port] (no path, no wildcard) allowed to call /api/public/tenants/{slug}/* from a browser',
        examples: [['https://www.example.com']],
      }),
    ),
    requireVerifiedEmail: Type.Optional(Type.Boolean({ description: 'Customers need a verified email to book, invitees to join (ADR 0021)' })),
    guestAutoConfirm: Type.Optional(Type.Boolean({ description: 'confirm guest bookings at once (default false: pending until the emailed link)' })),
    guestHoldMinutes: Type.Optional(Type.Integer({ minimum: 5, maximum: 1440, description: 'how long a pending guest booking holds its slot' })),
    reminderLeadMinutes: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_080, description: 'minutes before the start a reminder mail is sent; 0 = none' })),
    bookingHorizonDays: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 3650 }), Type.Null()], {
      description: 'booking horizon: a booking may start at most this many days after now (null = none)',
    })),
    maxBookingsPerStaffDay: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 1000 }), Type.Null()], {
      description: 'most active bookings one staff member may have on one local date in the tenant zone (null = unlimited)',
    })),
    maxFutureBookingsPerCustomer: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 1000 }), Type.Null()], {
      description: 'most active (pending or confirmed) future bookings one customer may hold (null = unlimited)',
    })),
  },
  { additionalProperties: false, minProperties: 1, examples: [{ timezone: 'Europe/Berlin', leadTimeMinutes: 60 }, { bookingHorizonDays: 90, maxBookingsPerStaffDay: 8, maxFutureBookingsPerCustomer: 3 }] },
);

// Services
export const ServiceSchema = Type.Object({
  id: Uuid,
  name: Type.String(),
  durationMinutes: Type.Integer(),
  bufferMinutes: Type.Integer({ description: 'buffer after each booking' }),
  priceCents: Type.Integer(),
  currency: Currency,
  active: Type.Boolean(),
  bufferBeforeMinutes: Type.Integer({ description: 'buffer before each booking' }),
  slotIntervalMinutes: Type.Union([Type.Integer(), Type.Null()], { description: 'slot grid step; null = durationMinutes' }),
});
export const ServicePage = pageOf(ServiceSchema);
const serviceFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  durationMinutes: Type.Integer({ minimum: 5, maximum: 1440 }),
  bufferMinutes: Type.Integer({ minimum: 0, maximum: 1440 }),
  priceCents: Type.Integer({ minimum: 0, maximum: 100_000_000_000 }),
  currency: Currency,
  active: Type.Boolean(),
  bufferBeforeMinutes: Type.Integer({ minimum: 0, maximum: 1440, description: 'buffer before each booking (default 0)' }),
  slotIntervalMinutes: Type.Union([Type.Integer({ minimum: 5, maximum: 1440 }), Type.Null()], {
    description: 'slots start every this many minutes from the start of working hours; null (default) = durationMinutes',
  }),
};
export const ServiceCreate = Type.Object(
  {
    name: serviceFields.name,
    durationMinutes: serviceFields.durationMinutes,
    bufferMinutes: Type.Optional(serviceFields.bufferMinutes),
    priceCents: serviceFields.priceCents,
    currency: Type.Optional(serviceFields.currency),
    active: Type.Optional(serviceFields.active),
    bufferBeforeMinutes: Type.Optional(serviceFields.bufferBeforeMinutes),
    slotIntervalMinutes: Type.Optional(serviceFields.slotIntervalMinutes),
  },
  { additionalProperties: false, examples: [
    { name: 'Haircut', durationMinutes: 45, bufferMinutes: 15, priceCents: 3500, currency: 'EUR' },
    { name: 'Consultation', durationMinutes: 60, bufferMinutes: 10, bufferBeforeMinutes: 5, slotIntervalMinutes: 30, priceCents: 8000 },
  ] },
);
export const ServicePatch = Type.Object(
  {
    name: Type.Optional(serviceFields.name),
    durationMinutes: Type.Optional(serviceFields.durationMinutes),
    bufferMinutes: Type.Optional(serviceFields.bufferMinutes),
    priceCents: Type.Optional(serviceFields.priceCents),
    currency: Type.Optional(serviceFields.currency),
    active: Type.Optional(serviceFields.active),
    bufferBeforeMinutes: Type.Optional(serviceFields.bufferBeforeMinutes),
    slotIntervalMinutes: Type.Optional(serviceFields.slotIntervalMinutes),
  },
  { additionalProperties: false, minProperties: 1, examples: [{ priceCents: 3900 }, { slotIntervalMinutes: 15, bufferBeforeMinutes: 10 }] },
);

// Staff
const HoursItem = Type.Object(
  { weekday: Type.Integer({ minimum: 0, maximum: 6, description: '0 = Sunday' }), start: Clock, end: Clock },
  { additionalProperties: false },
);
export const StaffSchema = Type.Object({
  id: Uuid,
  displayName: Type.String(),
  userId: Type.Optional(Uuid),
  active: Type.Boolean(),
});
export const StaffDetail = Type.Object({
  id: Uuid,
  displayName: Type.String(),
  userId: Type.Optional(Uuid),
  active: Type.Boolean(),
  serviceIds: Type.Array(Uuid),
  hours: Type.Array(HoursItem),
});
export const StaffPage = pageOf(StaffSchema);
export const StaffCreate = Type.Object(
  { displayName: Type.String({ minLength: 1, maxLength: 200 }), userId: Type.Optional(Uuid), active: Type.Optional(Type.Boolean()) },
  { additionalProperties: false, examples: [{ displayName: 'Grace Hopper' }] },
);
export const StaffPatch = Type.Object(
  {
    displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    userId: Type.Optional(Type.Union([Uuid, Type.Null()])),
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1, examples: [{ active: false }] },
);
export const StaffServicesBody = Type.Object(
  { serviceIds: Type.Array(Uuid, { maxItems: 500, uniqueItems: true }) },
  { additionalProperties: false, examples: [{ serviceIds: ['3f6c2a4e-8d1b-4c7a-9e2f-5b8a1d0c7e41'] }] },
);
export const StaffHoursBody = Type.Object({ hours: Type.Array(HoursItem, { maxItems: 100 }) }, { additionalProperties: false, examples: [{ hours: [{ weekday: 1, start: '09:00', end: '17:00' }, { weekday: 2, start: '09:00', end: '12:30' }] }] });

export const TimeOffSchema = Type.Object({ id: Uuid, start: IsoDate, end: IsoDate, reason: Type.Optional(Type.String()) });
export const TimeOffPage = pageOf(TimeOffSchema);
export const TimeOffCreate = Type.Object(
  { start: IsoDate, end: IsoDate, reason: Type.Optional(Type.String({ maxLength: 500 })) },
  { additionalProperties: false, examples: [{ start: '2027-03-01T00:00:00Z', end: '2027-03-08T00:00:00Z', reason: 'Holiday' }] },
);

// Tenant closures
export const ClosureParams = Type.Object({ tenantId: Id, closureId: Id }, { additionalProperties: false });
export const ClosureSchema = Type.Object({ id: Uuid, start: IsoDate, end: IsoDate, reason: Type.Optional(Type.String()) });
export const ClosurePage = pageOf(ClosureSchema);
const ClosureDay = Type.String({ format: 'date', description: "local date YYYY-MM-DD in the tenant's time zone" });
export const ClosureCreate = Type.Object(
  {
    start: Type.Optional({ ...IsoDate, description: 'with `end`: the closed instants `[start, end)`' }),
    end: Type.Optional(IsoDate),
    date: Type.Optional({ ...ClosureDay, description: "one whole local day in the tenant's time zone (23 or 25 hours on a DST change)" }),
    from: Type.Optional({ ...ClosureDay, description: "with `to`: whole local days in the tenant's time zone, `to` included" }),
    to: Type.Optional(ClosureDay),
    reason: Type.Optional(Type.String({ maxLength: 200 })),
  },
  {
    additionalProperties: false,
    description: 'exactly one of: `start` + `end` (instants), `date`, or `from` + `to` (local dates)',
    examples: [{ start: '2026-12-24T00:00:00+01:00', end: '2026-12-27T00:00:00+01:00', reason: 'Christmas' }, { date: '2026-05-01', reason: 'Labour Day' }, { from: '2026-12-24', to: '2026-12-26', reason: 'Christmas' }],
  },
);

// Per-date staff hours
export const DateHoursParams = Type.Object({ tenantId: Id, id: Id, date: Type.String({ format: 'date', description: 'local date YYYY-MM-DD' }) }, { additionalProperties: false });
const DateHoursItem = Type.Object({ start: Clock, end: Clock }, { additionalProperties: false });
export const DateHoursBody = Type.Object(
  { hours: Type.Array(DateHoursItem, { minItems: 1, maxItems: 12, description: 'replace the weekly hours on this date' }) },
  { additionalProperties: false, examples: [{ hours: [{ start: '08:00', end: '12:00' }, { start: '13:00', end: '20:00' }] }] },
);
export const DateHoursSchema = Type.Object({ date: Type.String(), hours: Type.Array(DateHoursItem) });
export const DateHoursPage = Type.Object({ items: Type.Array(DateHoursSchema, { maxItems: 400 }) });

// Customers
export const CustomerSchema = Type.Object({
  id: Uuid,
  name: Type.String(),
  email: Type.String(),
  phone: Type.Optional(Type.String()),
  userId: Type.Optional(Uuid),
});
export const CustomerPage = pageOf(CustomerSchema);
const Phone = Type.String({ minLength: 3, maxLength: 32, pattern: '^[+0-9 ()./-]+$' });
export const CustomerCreate = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    email: Type.String({ format: 'email', minLength: 3, maxLength: 254 }),
    phone: Type.Optional(Phone),
    userId: Type.Optional(Uuid),
  },
  { additionalProperties: false, examples: [{ name: 'Alan Turing', email: 'alan@example.com', phone: '+44 20 7946 0000' }] },
);
export const CustomerPatch = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    email: Type.Optional(Type.String({ format: 'email', minLength: 3, maxLength: 254 })),
    phone: Type.Optional(Type.Union([Phone, Type.Null()])),
    userId: Type.Optional(Type.Union([Uuid, Type.Null()])),
  },
  { additionalProperties: false, minProperties: 1, examples: [{ phone: null }] },
);

// Reservations
const StatusSchema = Type.Union([
  Type.Literal('pending'),
  Type.Literal('confirmed'),
  Type.Literal('completed'),
  Type.Literal('no_show'),
  Type.Literal('cancelled'),
]);
export const ReservationSchema = Type.Object({
  id: Uuid,
  serviceId: Uuid,
  staffId: Uuid,
  customerId: Uuid,
  start: IsoDate,
  end: IsoDate,
  status: StatusSchema,
  notes: Type.Optional(Type.String()),
});
export const ReservationPage = pageOf(ReservationSchema);
export const ReservationCreate = Type.Object(
  { serviceId: Uuid, staffId: Uuid, customerId: Uuid, start: IsoDate, notes: Type.Optional(Type.String({ maxLength: 2000 })) },
  { additionalProperties: false, examples: [{ serviceId: '3f6c2a4e-8d1b-4c7a-9e2f-5b8a1d0c7e41', staffId: '9b2d7f10-4a3c-4e8b-8f61-2c5e9a7d3b08', customerId: 'c41e8a25-7b9d-4f3a-a6e0-1d2b3c4e5f60', start: '2027-03-10T09:00:00Z' }] },
);
export const ReservationPatch = Type.Object(
  { status: Type.Optional(StatusSchema), start: Type.Optional(IsoDate) },
  { additionalProperties: false, minProperties: 1, maxProperties: 1, description: 'either {status} or {start} (reschedule)', examples: [{ status: 'cancelled' }, { start: '2027-03-11T10:00:00Z' }] },
);
export const ReservationQuery = Type.Object(
  {
    ...PageQuery.properties,
    from: Type.Optional(IsoDate),
    to: Type.Optional(IsoDate),
    staffId: Type.Optional(Uuid),
    customerId: Type.Optional(Uuid),
    status: Type.Optional(StatusSchema),
  },
  { additionalProperties: false },
);

// Availability
const DateOrDateTime = Type.Union([IsoDate, Type.String({ format: 'date' })], {
  description: 'a date-time, or a date YYYY-MM-DD meaning local midnight in `timeZone` (a date-only `to` is inclusive: the end of that day)',
});
export const SlotSchema = Type.Object({
  start: IsoDate,
  end: IsoDate,
  staffId: Uuid,
  localStart: Type.String({ description: 'start as local wall time with offset in the query `timeZone` (or the tenant zone), e.g. 2026-03-29T10:00:00+02:00' }),
  localEnd: Type.String({ description: 'end as local wall time with offset in the same zone' }),
});
export const AvailabilityResponse = Type.Object({
  slots: Type.Array(SlotSchema, { maxItems: MAX_SLOTS_PER_PAGE }),
  nextCursor: Type.Union([Type.String(), Type.Null()], {
    description: 'Pass as `cursor` (same query otherwise) for the next page; null when the range is exhausted. A page may hold fewer than `limit` slots, even none, and still have a next cursor: each request examines a bounded number of candidate slots.',
  }),
  bookingLimitReached: Type.Optional(Type.Object({ limit: Type.Literal('per_customer'), max: Type.Integer({ minimum: 1 }) }, {
    description: 'Public route, signed-in user only: they already hold the most future bookings this business allows, so no slot is offered (a booking would be 422 `booking_limit_reached`). Cancelling one frees a place.',
  })),
});
export const AvailabilityQuery = Type.Object(
  {
    serviceId: Uuid,
    from: DateOrDateTime,
    to: DateOrDateTime,
    staffId: Type.Optional(Uuid),
    timeZone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'IANA zone for `localStart`/`localEnd` and date-only `from`/`to` (default: the tenant zone)', examples: ['Europe/Berlin'] })),
    cursor: Type.Optional(Type.String({ maxLength: 128 })),
    limit: Defaulted(Type.Integer({ minimum: 1, maximum: MAX_SLOTS_PER_PAGE, default: DEFAULT_SLOTS_PER_PAGE })),
  },
  { additionalProperties: false },
);

// Public booking
export const SlugParams = Type.Object(
  { slug: Type.String({ minLength: 1, maxLength: 63 }) },
  { additionalProperties: false },
);
export const PublicTenant = Type.Object({ name: Type.String(), slug: Type.String(), timezone: Type.String() });
export const GuestCustomer = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    email: Type.String({ format: 'email', minLength: 3, maxLength: 254 }),
    phone: Type.Optional(Phone),
  },
  { additionalProperties: false },
);
export const PublicReservationCreate = Type.Object(
  {
    serviceId: Uuid,
    staffId: Type.Optional(Uuid),
    start: IsoDate,
    notes: Type.Optional(Type.String({ maxLength: 2000 })),
    customer: Type.Optional(GuestCustomer),
  },
  {
    additionalProperties: false,
    description: 'Without a credential `customer` is required (guest booking); with one it must be absent.',
    examples: [
      {
        serviceId: '0b6f3c1e-3f0a-4c55-9b2e-6d1f2a3b4c5d',
        start: '2026-03-24T09:00:00Z',
        customer: { name: 'Robin Guest', email: 'robin@example.com', phone: '+49 30 1234567' },
      },
    ],
  },
);

// Manage links (guest self-service)
const ManageToken = Type.String({ minLength: 1, maxLength: 200, description: 'the token from the emailed link (`mng_…`)' });
export const ManageTokenBody = Type.Object({ token: ManageToken }, { additionalProperties: false, examples: [{ token: 'mng_…' }] });
export const ManageRescheduleBody = Type.Object(
  { token: ManageToken, start: IsoDate },
  { additionalProperties: false, examples: [{ token: 'mng_…', start: '2026-03-24T10:00:00Z' }] },
);
export const ManagedReservation = Type.Object({
  reservation: Type.Object({
    id: Uuid,
    serviceId: Uuid,
    staffId: Uuid,
    start: IsoDate,
    end: IsoDate,
    status: StatusSchema,
    holdExpiresAt: Type.Optional(IsoDate),
  }),
  tenant: Type.Object({ name: Type.String(), slug: Type.String(), timezone: Type.String() }),
  service: Type.Object({ name: Type.String(), durationMinutes: Type.Integer() }),
  can: Type.Object({ confirm: Type.Boolean(), cancel: Type.Boolean(), reschedule: Type.Boolean() }),
});
