import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { findUserById } from '../auth/users.repo.js';
import { isExclusionViolation } from '../db/errors.js';
import { withTenant, type Database, type Queryable } from '../db/index.js';
import { AppError } from '../errors/index.js';
import type { Clock } from '../shared/clock.js';
import { decodeCursor, toPage, type Page } from '../shared/pagination.js';
import { isUuid } from '../shared/ids.js';
import { findMemberRole, insertMemberIfAbsent } from '../tenancy/members.repo.js';
import type { MembershipResolver } from '../tenancy/memberships.cache.js';
import { checkSlot, type SlotRejection, type StaffSchedule } from './availability.core.js';
import type { BookingEffects } from './booking-effects.js';
import { formatManageToken, hashManageSecret } from './manage-links.core.js';
import { insertManageLink } from './manage-links.repo.js';
import type { AvailabilityQuery, AvailabilityService, SlotPage } from './availability.service.js';
import { parseRange } from './availability.service.js';
import * as customers from './customers.repo.js';
import type { ReservationsService } from './reservations.service.js';
import { rejectionDetails, slotRules, slotUnavailable } from './reservations.service.js';
import { findReservation } from './reservations.repo.js';
import { findService, listServices, type ServiceRecord } from './services.repo.js';
import { assertVerifiedIfRequired, findSettings, findTenantBySlug, type TenantSettings } from './settings.repo.js';
import { findStaff, loadSchedules } from './staff.repo.js';
import { iso, notFound, parseInstant, toReservation, type WireReservation } from './wire.js';
import type { EventHub, RequestMeta } from '../shared/events.js';

const MINUTE = 60_000;

/**
 * Public booking by tenant slug, without membership. The slug is resolved through the narrow
 * tenants_public_slug policy; everything else runs under withTenant like any tenant request.
 */
export interface PublicBookingService {
  tenant(slug: string): Promise<{ name: string; slug: string; timezone: string }>;
  services(slug: string, query: { cursor?: string; limit: number }): Promise<Page<ServiceRecord>>;
  availability(slug: string, q: AvailabilityQuery): Promise<SlotPage>;
  /**
   * Books for the signed-in user, who becomes (or is matched to) a customer and gets the
   * `customer` role if not yet a member; records reservation.created (channel `public`).
   */
  book(
    slug: string,
    caller: { userId: string; meta: RequestMeta },
    input: { serviceId: string; staffId?: string; start: string; notes?: string },
  ): Promise<{ tenantId: string; reservation: WireReservation }>;
  /**
   * Books without an account (ADR 0018): the guest's customer record is matched by email or
   * created; the booking is `pending` with a hold of `guestHoldMinutes` until the guest follows
   * the emailed link, or `confirmed` at once when `guestAutoConfirm` is set. Mails a manage link.
   * Budgets per client IP and per guest email; records reservation.created (channel `public`).
   */
  bookAsGuest(
    slug: string,
    caller: { ip: string },
    input: { serviceId: string; staffId?: string; start: string; notes?: string; customer: { name: string; email: string; phone?: string } },
  ): Promise<{ tenantId: string; reservation: WireReservation }>;
}

/** Issues a manage link for a reservation inside the caller's transaction; returns the token. */
export async function issueManageLink(tx: Queryable, tenantId: string, reservationId: string, now: number): Promise<string> {
  const id = randomUUID();
  const secret = randomBytes(32).toString('base64url');
  await insertManageLink(tx, tenantId, { id, reservationId, secretHash: hashManageSecret(secret), createdAt: new Date(now) });
  return formatManageToken(id, secret);
}

// When no staff member is free: one answer per request, whatever staffId was (not) given. A
// clash with another booking is 409; otherwise the most specific rule any staff member broke.
const REASON_PRIORITY: readonly SlotRejection[] = ['in_past', 'lead_time', 'outside_booking_window', 'not_aligned', 'time_off', 'day_full', 'outside_working_hours'];

/** The 422 reason to give when no staff member can take `start`, or 'busy' when one is taken. */
export function explainNoStaff(rejections: readonly SlotRejection[]): SlotRejection {
  if (rejections.includes('busy')) return 'busy';
  return REASON_PRIORITY.find((r) => rejections.includes(r)) ?? 'outside_working_hours';
}

export function createPublicBookingService(deps: {
  db: Database;
  clock: Clock;
  events: EventHub;
  memberships: MembershipResolver;
  availability: AvailabilityService;
  reservations: ReservationsService;
  effects: BookingEffects;
  /** Spends the guest budgets (per client IP, per email hash); throws 429 when spent. */
  spendGuestBooking: (ip: string, emailHash: string) => Promise<void>;
}): PublicBookingService {
  const { db, clock } = deps;

  /**
   * The staff member for `start`: the given one (checked later by the shared rules), else the
   * first free qualified one by id. No one free → 409 when someone's booking is in the way,
   * else the same 422 `slot_unavailable` reason a named staff member would give.
   */
  async function chooseStaff(tx: Queryable, tenantId: string, settings: TenantSettings, service: ServiceRecord, staffId: string | undefined, start: number): Promise<string> {
    if (staffId !== undefined) {
      const staff = await findStaff(tx, tenantId, staffId);
      if (!staff) throw notFound('Staff member', 'staffId');
      if (!staff.active) throw slotUnavailable('staff_inactive', { staffId: staff.id });
      return staff.id;
    }
    const now = clock.now();
    const schedules: StaffSchedule[] = await loadSchedules(tx, tenantId, {
      serviceId: service.id,
      staffId: null,
      from: new Date(start - 86_400_000),
      to: new Date(start + 2 * 86_400_000),
      now: new Date(now),
    });
    const rejections: SlotRejection[] = [];
    for (const s of schedules) {
      const check = checkSlot(slotRules(settings, service, now), s, start);
      if (check.ok) return s.staffId;
      rejections.push(check.reason);
    }
    if (schedules.length === 0) throw slotUnavailable('service_not_performed', { serviceId: service.id });
    const reason = explainNoStaff(rejections);
    if (reason === 'busy') throw new AppError('conflict', 'No qualified staff member is free at this time', { start: new Date(start).toISOString() });
    throw slotUnavailable(reason, rejectionDetails(settings, reason, now));
  }

  async function resolve(slug: string): Promise<{ id: string; name: string; slug: string }> {
    const tenant = await db.transaction((tx) => findTenantBySlug(tx, slug), undefined, { readOnly: true });
    if (!tenant) throw notFound('Tenant');
    return tenant;
  }

  /**
   * The signed-in user's customer record in the tenant: matched by linked user id, else created.
   * A record with the same email but no linked account is claimed only by an account whose
   * email is verified (ADR 0013): before that, sign-up does not prove ownership of the address,
   * and claiming would hand its reservation history to whoever registered the email first. An
   * unverified account gets `conflict` (`customer_email_unlinked`); a manager can still link it.
   */
  async function ensureCustomer(tx: Queryable, tenantId: string, user: { id: string; email: string; name: string; emailVerifiedAt: Date | null }, onClaim: (customerId: string) => void) {
    const linked = await customers.findCustomerByUser(tx, tenantId, user.id);
    if (linked) return linked;
    // Find-or-create, race-safe: a concurrent first booking may insert between the read above
    // and this insert; then the record is the winner's (same user), or the email belongs to a
    // record not linked to this user.
    const inserted = await customers.insertCustomerIfAbsent(tx, tenantId, { id: randomUUID(), name: user.name, email: user.email, phone: null, userId: user.id });
    if (inserted) return inserted;
    const winner = await customers.findCustomerByUser(tx, tenantId, user.id);
    if (winner) return winner;
    if (user.emailVerifiedAt) {
      const claimed = await customers.claimCustomerByEmail(tx, tenantId, user.email, user.id);
      if (claimed) {
        onClaim(claimed.id);
        return claimed;
      }
    }
    throw new AppError('conflict', 'This business already has a customer record with your email; ask them to link it to your account', {
      reason: 'customer_email_unlinked',
    });
  }

  return {
    async tenant(slug: string) {
      const t = await resolve(slug);
      const settings = await withTenant(db, t.id, (tx) => findSettings(tx, t.id), { readOnly: true });
      return { name: t.name, slug: t.slug, timezone: settings.timezone };
    },

    async services(slug: string, query: { cursor?: string; limit: number }) {
      const t = await resolve(slug);
      const after = decodeCursor(query.cursor, isUuid);
      return withTenant(db, t.id, async (tx) =>
        toPage(await listServices(tx, t.id, { after, limit: query.limit + 1, activeOnly: true }), query.limit, (s) => s.id),
        { readOnly: true },
      );
    },

    async availability(slug: string, q: AvailabilityQuery) {
      const range = parseRange(q);
      const t = await resolve(slug);
      const compute = await withTenant(db, t.id, (tx) => deps.availability.loadIn(tx, t.id, q, range, true), { readOnly: true });
      return compute();
    },

    /**
     * Books for the signed-in user, who becomes (or is matched to) a customer and gets the
     * `customer` role if not yet a member. Without `staffId`, the first free qualified staff
     * member (by id) is chosen.
     */
    async book(slug: string, caller: { userId: string; meta: RequestMeta }, input: { serviceId: string; staffId?: string; start: string; notes?: string }) {
      const start = parseInstant(input.start, 'start');
      const t = await resolve(slug);
      const user = await findUserById(db, caller.userId);
      if (!user) throw new AppError('invalid_token');
      const tenantId = t.id;
      let chosen: string | null = null;
      let service: Awaited<ReturnType<typeof findService>> = null;
      let joined = false;
      let claimedCustomer: string | null = null;
      try {
        const created = await withTenant(db, tenantId, async (tx) => {
          service = await findService(tx, tenantId, input.serviceId);
          if (!service || !service.active) throw notFound('Service', 'serviceId');
          const settings = await findSettings(tx, tenantId);
          assertVerifiedIfRequired(settings, user);
          const customer = await ensureCustomer(tx, tenantId, user, (id) => (claimedCustomer = id));
          if ((await findMemberRole(tx, tenantId, user.id)) === null) {
            joined = await insertMemberIfAbsent(tx, tenantId, user.id, 'customer');
          }
          const staffId = await chooseStaff(tx, tenantId, settings, service, input.staffId, start);
          chosen = staffId;
          const booked = await deps.reservations.book(tx, tenantId, settings, {
            service,
            staffId,
            customerId: customer.id,
            start,
            notes: input.notes ?? null,
            createdBy: user.id,
          });
          const jobs = await deps.effects.record(tx, {
            type: 'reservation.created', tenantId, reservationId: booked.id, actorUserId: user.id, staffId, customerId: customer.id,
            start: iso(start), end: iso(start + service.durationMinutes * MINUTE), channel: 'public', status: booked.status,
          });
          return { id: booked.id, jobs };
        });
        await deps.effects.dispatch(created.jobs);
        const id = created.id;
        if (joined) await deps.memberships.invalidate(tenantId, user.id);
        if (claimedCustomer) {
          // Audited like a manager's link, with the verified account itself as the actor.
          deps.events.emit('customer.linked', { tenantId, customerId: claimedCustomer, actorUserId: user.id, from: null, to: user.id, meta: caller.meta });
        }
        const r = await withTenant(db, tenantId, (tx) => findReservation(tx, tenantId, id), { readOnly: true });
        return { tenantId, reservation: toReservation(r!) };
      } catch (err) {
        if (service && chosen && isExclusionViolation(err)) return deps.reservations.explainExclusion(err, tenantId, chosen, start, service);
        throw err;
      }
    },

    async bookAsGuest(slug, caller, input) {
      const start = parseInstant(input.start, 'start');
      const emailHash = createHash('sha256').update(input.customer.email.trim().toLowerCase()).digest('hex');
      await deps.spendGuestBooking(caller.ip, emailHash);
      const t = await resolve(slug);
      const tenantId = t.id;
      let chosen: string | null = null;
      let service: ServiceRecord | null = null;
      try {
        const booked = await withTenant(db, tenantId, async (tx) => {
          const svc = await findService(tx, tenantId, input.serviceId);
          if (!svc || !svc.active) throw notFound('Service', 'serviceId');
          service = svc;
          const settings = await findSettings(tx, tenantId);
          // A guest never edits an existing record (name, phone, linked account stay as they are).
          const customer =
            (await customers.findCustomerByEmail(tx, tenantId, input.customer.email)) ??
            (await customers.insertCustomerIfAbsent(tx, tenantId, {
              id: randomUUID(),
              name: input.customer.name,
              email: input.customer.email,
              phone: input.customer.phone ?? null,
              userId: null,
            })) ??
            (await customers.findCustomerByEmail(tx, tenantId, input.customer.email));
          if (!customer) throw new AppError('conflict', 'Please try again');
          const staffId = await chooseStaff(tx, tenantId, settings, svc, input.staffId, start);
          chosen = staffId;
          const now = clock.now();
          const holdExpiresAt = settings.guestAutoConfirm ? null : now + settings.guestHoldMinutes * MINUTE;
          const { id, status } = await deps.reservations.book(tx, tenantId, settings, {
            service: svc,
            staffId,
            customerId: customer.id,
            start,
            notes: input.notes ?? null,
            createdBy: null,
            status: settings.guestAutoConfirm ? 'confirmed' : 'pending',
            holdExpiresAt,
          });
          const token = await issueManageLink(tx, tenantId, id, now);
          // The guest mail (confirm / manage link) is written with the booking, its token sealed.
          const jobs = await deps.effects.record(tx, {
            type: 'reservation.created', tenantId, reservationId: id, actorUserId: null, staffId, customerId: customer.id,
            start: iso(start), end: iso(start + svc.durationMinutes * MINUTE), channel: 'public', status,
          }, {
            kind: 'booking', token, to: input.customer.email.trim(), name: input.customer.name,
            pendingUntil: holdExpiresAt === null ? null : iso(holdExpiresAt),
          });
          return { id, jobs };
        });
        await deps.effects.dispatch(booked.jobs);
        const r = await withTenant(db, tenantId, (tx) => findReservation(tx, tenantId, booked.id), { readOnly: true });
        return { tenantId, reservation: toReservation(r!) };
      } catch (err) {
        const svc = service as ServiceRecord | null;
        if (svc && chosen && isExclusionViolation(err)) return deps.reservations.explainExclusion(err, tenantId, chosen, start, svc);
        throw err;
      }
    },
  };
}

