import { randomUUID } from 'node:crypto';
import { isExclusionViolation } from '../db/errors.js';
import { withTenant, type Database, type Queryable } from '../db/index.js';
import type { Actor } from '../access/index.js';
import { AppError } from '../errors/index.js';
import type { Clock } from '../shared/clock.js';
import { recordLapsedHolds, type BookingEffects } from './booking-effects.js';
import { decodeCursor, encodeCursor } from '../shared/pagination.js';
import { isUuid } from '../shared/ids.js';
import { checkSlot, type SlotQuery, type SlotRejection, type StaffSchedule } from './availability.core.js';
import { findCustomer } from './customers.repo.js';
import { canTransition, isActive, isBeforeCutoff, TRANSITIONS, type ReservationStatus } from './reservation-status.core.js';
import * as repo from './reservations.repo.js';
import type { ReservationRecord } from './reservations.repo.js';
import { findService, type ServiceRecord } from './services.repo.js';
import { assertVerifiedIfRequired, findSettings, type TenantSettings } from './settings.repo.js';
import { findUserById } from '../auth/users.repo.js';
import { findStaff, loadSchedules, lockStaff } from './staff.repo.js';
import { iso, notFound, parseInstant, toReservation, type WireReservation } from './wire.js';

const MINUTE = 60_000;
const DAY = 86_400_000;

const REJECTION_MESSAGES: Record<SlotRejection | 'service_not_performed' | 'service_inactive' | 'staff_inactive', string> = {
  in_past: 'The start time is in the past',
  lead_time: 'The start time is inside the tenant’s booking lead time',
  outside_booking_window: 'The start time is beyond the tenant’s booking horizon',
  day_full: 'The staff member has reached the tenant’s limit of bookings on that day',
  outside_working_hours: 'The staff member does not work at this time',
  not_aligned: 'The start time is not on the service’s slot grid (slots repeat every slotIntervalMinutes, default durationMinutes, from the start of working hours)',
  time_off: 'The staff member is off at this time',
  busy: 'The slot is taken',
  service_not_performed: 'The staff member does not perform this service',
  service_inactive: 'The service is not bookable',
  staff_inactive: 'The staff member is not bookable',
};

export function slotUnavailable(reason: keyof typeof REJECTION_MESSAGES, extra: Record<string, unknown> = {}): AppError {
  if (reason === 'outside_booking_window') return new AppError('outside_booking_window', REJECTION_MESSAGES[reason], extra);
  if (reason === 'day_full') return new AppError('booking_limit_reached', REJECTION_MESSAGES[reason], { limit: 'per_staff_day', ...extra });
  return new AppError('slot_unavailable', REJECTION_MESSAGES[reason], { reason, ...extra });
}

/** The booking rules of `service` under `settings` at `now`, as the pure slot check takes them. */
export function slotRules(settings: TenantSettings, service: ServiceRecord, now: number): Omit<SlotQuery, 'from' | 'to'> & { now: number } {
  return {
    timeZone: settings.timezone,
    durationMinutes: service.durationMinutes,
    bufferMinutes: service.bufferMinutes,
    bufferBeforeMinutes: service.bufferBeforeMinutes,
    intervalMinutes: service.slotIntervalMinutes,
    now,
    earliestStart: now + settings.leadTimeMinutes * MINUTE,
    ...(settings.bookingHorizonDays === null ? {} : { latestStart: now + settings.bookingHorizonDays * DAY }),
    maxPerDay: settings.maxBookingsPerStaffDay,
  };
}

/** The details a refusal names, so a client can tell which setting refused it. */
export function rejectionDetails(settings: TenantSettings, reason: SlotRejection, now: number): Record<string, unknown> {
  if (reason === 'lead_time') return { leadTimeMinutes: settings.leadTimeMinutes };
  if (reason === 'outside_booking_window' && settings.bookingHorizonDays !== null) {
    return { bookingHorizonDays: settings.bookingHorizonDays, latestStart: iso(now + settings.bookingHorizonDays * DAY) };
  }
  if (reason === 'day_full') return { max: settings.maxBookingsPerStaffDay };
  return {};
}

function conflict(staffId: string, start: number, end: number, clash: { start: Date | number; end: Date | number } | null): AppError {
  return new AppError('conflict', 'The staff member is already booked at this time', {
    staffId,
    requested: { start: iso(start), end: iso(end) },
    ...(clash ? { clashingSlot: { start: iso(clash.start), end: iso(clash.end) } } : {}),
  });
}

export interface BookingRequest {
  service: ServiceRecord;
  staffId: string;
  customerId: string;
  start: number;
  notes: string | null;
  createdBy: string | null;
  /** Default `pending` with no expiry; a guest booking passes its hold (ADR 0018). */
  status?: 'pending' | 'confirmed';
  holdExpiresAt?: number | null;
}

/** What `book` saved: the new reservation's id and status. */
export interface BookedReservation {
  id: string;
  status: 'pending' | 'confirmed';
}

/** Reservations: create, reschedule, status changes, own-only visibility. */
export type ReservationListQuery = {
  cursor?: string;
  limit: number;
  from?: string;
  to?: string;
  staffId?: string;
  customerId?: string;
  status?: ReservationStatus;
};

/**
 * Reservations inside a tenant. Staff see what is assigned to them, customers their own,
 * managers everything (`Actor.can`). Every change records its `ReservationChange` in its own
 * transaction (`BookingEffects.record`, ADR 0024 / 0029).
 */
export interface ReservationsService {
  /** Inserts one booking inside a caller's transaction (public booking reuses the rules). */
  book(tx: Queryable, tenantId: string, settings: TenantSettings, req: BookingRequest): Promise<BookedReservation>;
  /**
   * Moves an active reservation to `start` inside the caller's transaction (same staff, service
   * and rules as create): one UPDATE, so the old slot is freed exactly when the new one is taken.
   */
  reschedule(tx: Queryable, tenantId: string, settings: TenantSettings, r: ReservationRecord, start: number): Promise<ServiceRecord>;
  /** Turns an exclusion-constraint race into the 409 that names the clash; rethrows anything else. */
  explainExclusion(err: unknown, tenantId: string, staffId: string, start: number, service: ServiceRecord): Promise<never>;
  get(tenantId: string, actor: Actor, id: string): Promise<WireReservation>;
  create(tenantId: string, actor: Actor, input: { serviceId: string; staffId: string; customerId: string; start: string; notes?: string }): Promise<WireReservation>;
  list(tenantId: string, actor: Actor, q: ReservationListQuery): Promise<{ items: WireReservation[]; nextCursor: string | null }>;
  /** `{status}` moves along the status machine; `{start}` reschedules (same rules as create). */
  update(tenantId: string, actor: Actor, id: string, patch: { status?: ReservationStatus; start?: string }): Promise<WireReservation>;
}

export function createReservationsService(deps: { db: Database; clock: Clock; effects: BookingEffects }): ReservationsService {
  const { db, clock, effects } = deps;

  /** Checks one staff member's schedule for the slot; throws the 422 / 409 that explains why not. */
  async function assertBookable(
    tx: Queryable,
    tenantId: string,
    settings: TenantSettings,
    req: { service: ServiceRecord; staffId: string; start: number; excludeReservationId?: string },
  ): Promise<void> {
    // One booking at a time per staff member: the per-day limit and the buffer before (which the
    // exclusion constraint does not see) are checked against committed rows, race-free.
    await lockStaff(tx, tenantId, req.staffId);
    const schedules: StaffSchedule[] = await loadSchedules(tx, tenantId, {
      serviceId: req.service.id,
      staffId: req.staffId,
      from: new Date(req.start - DAY),
      to: new Date(req.start + 2 * DAY),
      excludeReservationId: req.excludeReservationId,
      now: new Date(clock.now()),
    });
    const schedule = schedules[0];
    if (!schedule) throw slotUnavailable('service_not_performed', { staffId: req.staffId, serviceId: req.service.id });
    const now = clock.now();
    const check = checkSlot(slotRules(settings, req.service, now), schedule, req.start);
    if (check.ok) return;
    const end = req.start + req.service.durationMinutes * MINUTE;
    if (check.reason === 'busy') throw conflict(req.staffId, req.start, end, check.clash ?? null);
    throw slotUnavailable(check.reason, {
      staffId: req.staffId,
      ...rejectionDetails(settings, check.reason, now),
      ...(check.clash && check.reason === 'time_off' ? { timeOff: { start: iso(check.clash.start), end: iso(check.clash.end) } } : {}),
      ...(check.clash && check.reason === 'day_full' ? { date: { start: iso(check.clash.start), end: iso(check.clash.end) } } : {}),
    });
  }

  /** The per-customer limit: active future bookings, counted under a row lock on the customer. */
  async function assertCustomerLimit(tx: Queryable, tenantId: string, settings: TenantSettings, customerId: string): Promise<void> {
    const max = settings.maxFutureBookingsPerCustomer;
    if (max === null) return;
    await repo.lockCustomer(tx, tenantId, customerId);
    const n = await repo.countCustomerFutureBookings(tx, tenantId, { customerId, now: new Date(clock.now()) });
    if (n >= max) {
      throw new AppError('booking_limit_reached', 'The customer already holds the most future bookings this business allows', {
        limit: 'per_customer',
        max,
      });
    }
  }

  /**
   * Validates and inserts in the caller's transaction; returns the new id and the status it was
   * saved with (what the caller records). The exclusion constraint is the real guard against
   * double booking: the pre-check only gives better messages.
   */
  async function book(tx: Queryable, tenantId: string, settings: TenantSettings, req: BookingRequest): Promise<BookedReservation> {
    if (!req.service.active) throw slotUnavailable('service_inactive', { serviceId: req.service.id });
    await assertBookable(tx, tenantId, settings, { service: req.service, staffId: req.staffId, start: req.start });
    await assertCustomerLimit(tx, tenantId, settings, req.customerId);
    const id = randomUUID();
    const status = req.status ?? 'pending';
    const end = req.start + req.service.durationMinutes * MINUTE;
    const blockedUntil = new Date(end + req.service.bufferMinutes * MINUTE);
    const blockedFrom = new Date(req.start - req.service.bufferBeforeMinutes * MINUTE);
    const freed = await repo.expireLapsedHolds(tx, tenantId, { staffId: req.staffId, start: new Date(req.start), blockedUntil, now: new Date(clock.now()) });
    await recordLapsedHolds(effects, tx, tenantId, freed);
    await repo.insertReservation(tx, tenantId, {
      id,
      serviceId: req.service.id,
      staffId: req.staffId,
      customerId: req.customerId,
      start: new Date(req.start),
      end: new Date(end),
      blockedUntil,
      status,
      notes: req.notes,
      createdBy: req.createdBy,
      holdExpiresAt: req.holdExpiresAt == null ? null : new Date(req.holdExpiresAt),
      blockedFrom,
    });
    return { id, status };
  }

  async function reschedule(tx: Queryable, tenantId: string, settings: TenantSettings, r: ReservationRecord, start: number): Promise<ServiceRecord> {
    if (!isActive(r.status) || isLapsedHold(r)) {
      throw new AppError('invalid_state', `A ${r.status} reservation cannot be rescheduled`, { from: r.status });
    }
    const service = await findService(tx, tenantId, r.serviceId);
    if (!service) throw notFound('Service');
    await assertBookable(tx, tenantId, settings, { service, staffId: r.staffId, start, excludeReservationId: r.id });
    const end = start + service.durationMinutes * MINUTE;
    const blockedUntil = new Date(end + service.bufferMinutes * MINUTE);
    const freed = await repo.expireLapsedHolds(tx, tenantId, { staffId: r.staffId, start: new Date(start), blockedUntil, now: new Date(clock.now()) });
    await recordLapsedHolds(effects, tx, tenantId, freed);
    const blockedFrom = new Date(start - service.bufferBeforeMinutes * MINUTE);
    await repo.updateTimes(tx, tenantId, r.id, { start: new Date(start), end: new Date(end), blockedUntil, blockedFrom });
    return service;
  }

  /** A pending guest hold past its expiry: free for others, and no longer confirmable or movable. */
  function isLapsedHold(r: ReservationRecord): boolean {
    return r.status === 'pending' && r.holdExpiresAt !== null && r.holdExpiresAt.getTime() <= clock.now();
  }

  /** Turns a lost race (SQLSTATE 23P01) into 409 naming the slot that won. */
  async function explainExclusion(err: unknown, tenantId: string, staffId: string, start: number, service: ServiceRecord): Promise<never> {
    if (!isExclusionViolation(err)) throw err;
    const end = start + service.durationMinutes * MINUTE;
    const clash = await withTenant(db, tenantId, (tx) =>
      repo.findClash(tx, tenantId, { staffId, start: new Date(start), blockedUntil: new Date(end + service.bufferMinutes * MINUTE), excludeId: null }),
      { readOnly: true },
    );
    throw conflict(staffId, start, end, clash);
  }

  function assertBeforeCutoff(r: ReservationRecord, settings: TenantSettings): void {
    if (!isBeforeCutoff(clock.now(), r.start.getTime(), settings.cancellationCutoffMinutes)) {
      throw new AppError('invalid_state', 'The cancellation cutoff has passed', {
        reason: 'cancellation_cutoff',
        cancellationCutoffMinutes: settings.cancellationCutoffMinutes,
      });
    }
  }

  /** How `actor` relates to a reservation; null = may not see it (answered as 404). */
  function relation(actor: Actor, r: ReservationRecord): 'manager' | 'staff' | 'customer' | null {
    if (actor.can('reservations.read')) return 'manager';
    if (r.staffUserId === actor.userId && actor.can('reservations:own.write')) return 'staff';
    if (r.customerUserId === actor.userId) return 'customer';
    return null;
  }

  /** `forChange`: locked in the one order, staff row then reservation row (`lockReservationForChange`). */
  async function loadVisible(tx: Queryable, tenantId: string, actor: Actor, id: string, forChange = false) {
    const r = !isUuid(id) ? null : forChange ? await repo.lockReservationForChange(tx, tenantId, id) : await repo.findReservation(tx, tenantId, id);
    const rel = r ? relation(actor, r) : null;
    if (!r || !rel) throw notFound('Reservation');
    return { r, rel };
  }

  function getOne(tenantId: string, actor: Actor, id: string) {
    return withTenant(db, tenantId, async (tx) => toReservation((await loadVisible(tx, tenantId, actor, id)).r), { readOnly: true });
  }

  return {
    book,
    reschedule,
    explainExclusion,
    get: getOne,

    async create(
      tenantId: string,
      actor: Actor,
      input: { serviceId: string; staffId: string; customerId: string; start: string; notes?: string },
    ) {
      const start = parseInstant(input.start, 'start');
      let service: ServiceRecord | null = null;
      try {
        const created = await withTenant(db, tenantId, async (tx) => {
          const settings = await findSettings(tx, tenantId);
          service = await findService(tx, tenantId, input.serviceId);
          if (!service) throw notFound('Service', 'serviceId');
          const staff = await findStaff(tx, tenantId, input.staffId);
          if (!staff) throw notFound('Staff member', 'staffId');
          const customer = await findCustomer(tx, tenantId, input.customerId);
          if (!customer) throw notFound('Customer', 'customerId');
          if (!actor.can('reservations.create')) {
            // Own-only: staff book into their own calendar, customers book for themselves.
            const ownStaff = staff.userId === actor.userId && actor.can('reservations:own.write');
            const ownCustomer = customer.userId === actor.userId;
            if (!ownStaff && !ownCustomer) {
              throw new AppError('insufficient_permissions', 'You may only book for yourself or into your own calendar', {
                required: 'reservations.create',
                role: actor.role,
              });
            }
            // Booking as a customer: the tenant may ask for a verified address (ADR 0021).
            if (!ownStaff && settings.requireVerifiedEmail) {
              const self = await findUserById(tx, actor.userId);
              assertVerifiedIfRequired(settings, { emailVerifiedAt: self?.emailVerifiedAt ?? null });
            }
          }
          if (!staff.active) throw slotUnavailable('staff_inactive', { staffId: staff.id });
          const booked = await book(tx, tenantId, settings, {
            service,
            staffId: staff.id,
            customerId: customer.id,
            start,
            notes: input.notes ?? null,
            createdBy: actor.userId,
          });
          const jobs = await effects.record(tx, {
            type: 'reservation.created', tenantId, reservationId: booked.id, actorUserId: actor.userId, staffId: staff.id, customerId: customer.id,
            start: iso(start), end: iso(start + service.durationMinutes * MINUTE), channel: 'tenant', status: booked.status,
          });
          return { id: booked.id, jobs };
        });
        await effects.dispatch(created.jobs);
        return await getOne(tenantId, actor, created.id);
      } catch (err) {
        if (service) return explainExclusion(err, tenantId, input.staffId, start, service);
        throw err;
      }
    },

    list(
      tenantId: string,
      actor: Actor,
      q: { cursor?: string; limit: number; from?: string; to?: string; staffId?: string; customerId?: string; status?: ReservationStatus },
    ) {
      const cursor = decodeCursor(q.cursor, (k) => {
        const [t, id] = k.split('|');
        return t !== undefined && !Number.isNaN(Date.parse(t)) && isUuid(id);
      });
      const after = cursor ? { start: new Date(cursor.split('|')[0]!), id: cursor.split('|')[1]! } : null;
      const from = q.from ? parseInstant(q.from, 'from') : null;
      const to = q.to ? parseInstant(q.to, 'to') : null;
      if (from !== null && to !== null && to <= from) {
        throw new AppError('validation_error', 'The request is invalid', [{ field: 'to', in: 'querystring', message: 'must be after from' }]);
      }
      return withTenant(db, tenantId, async (tx) => {
        const rows = await repo.listReservations(tx, tenantId, {
          from: from === null ? null : new Date(from),
          to: to === null ? null : new Date(to),
          staffId: q.staffId ?? null,
          customerId: q.customerId ?? null,
          status: q.status ?? null,
          visibleToUser: actor.can('reservations.read') ? null : actor.userId,
          after,
          limit: q.limit + 1,
        });
        const items = rows.slice(0, q.limit);
        const last = items[items.length - 1];
        return {
          items: items.map(toReservation),
          nextCursor: rows.length > q.limit && last ? encodeCursor(`${iso(last.start)}|${last.id}`) : null,
        };
      }, { readOnly: true });
    },

    /**
     * `{status}` moves along the status machine; `{start}` reschedules (same rules as create).
     * Records `reservation.status_changed` or `reservation.rescheduled`.
     */
    async update(tenantId: string, actor: Actor, id: string, patch: { status?: ReservationStatus; start?: string }) {
      if ((patch.status === undefined) === (patch.start === undefined)) {
        throw new AppError('validation_error', 'Send either status or start', [{ field: 'body', message: 'must have exactly one of status, start' }]);
      }
      const newStart = patch.start === undefined ? null : parseInstant(patch.start, 'start');
      let resched: { staffId: string; service: ServiceRecord } | null = null;
      try {
        const jobs = await withTenant(db, tenantId, async (tx) => {
          const { r, rel } = await loadVisible(tx, tenantId, actor, id, true);
          const settings = await findSettings(tx, tenantId);
          if (rel === 'manager' && !actor.can('reservations.write') && !(patch.status === 'cancelled' && actor.can('reservations.cancel'))) {
            throw new AppError('insufficient_permissions', undefined, { required: 'reservations.write', role: actor.role });
          }
          if (patch.status !== undefined) {
            if (!canTransition(r.status, patch.status)) {
              throw new AppError('invalid_state', `A ${r.status} reservation cannot become ${patch.status}`, {
                from: r.status,
                to: patch.status,
                allowed: TRANSITIONS[r.status],
              });
            }
            if (rel === 'customer') {
              if (patch.status !== 'cancelled') {
                throw new AppError('insufficient_permissions', 'Customers may only cancel', { required: 'reservations:own.write', role: actor.role });
              }
              assertBeforeCutoff(r, settings);
            }
            await repo.updateStatus(tx, tenantId, r.id, patch.status);
            return effects.record(tx, { type: 'reservation.status_changed', tenantId, reservationId: r.id, actorUserId: actor.userId, from: r.status, to: patch.status });
          }
          // Customers reschedule their own booking up to the cancellation cutoff, like cancelling.
          if (rel === 'customer') assertBeforeCutoff(r, settings);
          const service = await findService(tx, tenantId, r.serviceId);
          if (service) resched = { staffId: r.staffId, service };
          const moved = await reschedule(tx, tenantId, settings, r, newStart!);
          return effects.record(tx, {
            type: 'reservation.rescheduled', tenantId, reservationId: r.id, actorUserId: actor.userId,
            from: { start: iso(r.start), end: iso(r.end) }, to: { start: iso(newStart!), end: iso(newStart! + moved.durationMinutes * MINUTE) },
          });
        });
        await effects.dispatch(jobs);
        return await getOne(tenantId, actor, id);
      } catch (err) {
        const r = resched as { staffId: string; service: ServiceRecord } | null;
        if (r && newStart !== null) return explainExclusion(err, tenantId, r.staffId, newStart, r.service);
        throw err;
      }
    },
  };
}

