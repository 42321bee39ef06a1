import { withTenant, type Database, type Queryable } from '../db/index.js';
import { AppError } from '../errors/index.js';
import type { Clock } from '../shared/clock.js';
import { isUuid } from '../shared/ids.js';
import { decodeCursor, encodeCursor } from '../shared/pagination.js';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { DEFAULT_SLOTS_PER_PAGE, MAX_CANDIDATES_PER_REQUEST, MAX_SLOTS_PER_PAGE, sweepSlots, type SlotPage as CorePage, type SlotPosition } from './availability.core.js';
import { findService } from './services.repo.js';
import { findCustomerByUser } from './customers.repo.js';
import { countCustomerFutureBookings } from './reservations.repo.js';
import { findSettings, findTenantBySlug } from './settings.repo.js';
import { loadSchedules } from './staff.repo.js';
import { formatLocalDateTime, isValidTimeZone, localToInstant, nextDate, parseLocalDate } from './timezone.core.js';
import { iso, notFound, parseInstant } from './wire.js';

export const MAX_RANGE_DAYS = 31;
const MINUTE = 60_000;
/**
 * Longest stretch the slot sweep holds the event loop before handing it back (`setImmediate`),
 * so `/api/health` and every other request interleave with a worst-case availability page.
 */
export const SWEEP_SLICE_MS = 2;

/** Runs a slot sweep to its page, yielding the event loop whenever a slice reaches `sliceMs`. */
export async function runSliced(sweep: Generator<number, CorePage, void>, sliceMs = SWEEP_SLICE_MS): Promise<CorePage> {
  let sliceStart = performance.now();
  for (;;) {
    const r = sweep.next();
    if (r.done) return r.value;
    if (performance.now() - sliceStart >= sliceMs) {
      await nextTurn();
      sliceStart = performance.now();
    }
  }
}

export interface AvailabilityQuery {
  serviceId: string;
  from: string;
  to: string;
  staffId?: string;
  /** IANA zone for `localStart`/`localEnd` and date-only `from`/`to`; default the tenant zone. */
  timeZone?: string;
  cursor?: string;
  limit?: number;
}

const CURSOR_KEY = /^(\d{1,15}):((?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})?)$/;

/** The cursor names a slot position: `<start ms>:<staff id>` (empty id: "from that instant on"). */
function parseCursor(cursor: string | undefined): SlotPosition | null {
  const key = decodeCursor(cursor, (k) => CURSOR_KEY.test(k));
  if (key === null) return null;
  const [, start, staffId] = CURSOR_KEY.exec(key)!;
  return { start: Number(start), staffId: staffId ?? '' };
}

const bad = (field: string, message: string) =>
  new AppError('validation_error', 'The request is invalid', [{ field, in: 'querystring', message }]);

/**
 * Validates the range: end after start, at most 31 days. A date-only `from` is local midnight
 * of that date in `zone` (the query's `timeZone`, else `fallbackZone`, the tenant's); a date-only
 * `to` is inclusive, i.e. the local midnight after it. A bad `timeZone` is a 400.
 */
export function parseRange(q: { from: string; to: string; timeZone?: string }, fallbackZone = 'UTC'): { from: number; to: number } {
  if (q.timeZone !== undefined && !isValidTimeZone(q.timeZone)) throw bad('timeZone', 'is not an IANA time zone');
  const zone = q.timeZone ?? fallbackZone;
  const at = (value: string, field: string, endOfDay: boolean) => {
    const date = parseLocalDate(value);
    if (date === null) {
      if (/^\d{4}-\d{2}-\d{2}$/.test(value)) throw bad(field, 'is not a calendar date');
      return { t: parseInstant(value, field), dateOnly: false };
    }
    return { t: localToInstant(endOfDay ? nextDate(date) : date, 0, zone), dateOnly: true };
  };
  const from = at(q.from, 'from', false);
  const to = at(q.to, 'to', true);
  if (to.t <= from.t) throw bad('to', 'must be after from');
  // A date-only range may be an hour longer than its days across a DST change.
  const slack = from.dateOnly || to.dateOnly ? 2 * 3_600_000 : 0;
  if (to.t - from.t > MAX_RANGE_DAYS * 86_400_000 + slack) throw bad('to', `must be at most ${MAX_RANGE_DAYS} days after from`);
  return { from: from.t, to: to.t };
}

export interface SlotPage {
  readonly slots: Array<{ start: string; end: string; staffId: string; localStart: string; localEnd: string }>;
  /** Pass back as `cursor` for the next page; null when the range is exhausted. */
  readonly nextCursor: string | null;
}

/** Free slots of a service in a tenant, in the tenant's time zone (DST-correct), one bounded page at a time. */
export interface AvailabilityService {
  /**
   * Reads what a page needs inside a caller's transaction (public booking resolves the tenant
   * first) and returns the computation, to be run once the transaction has ended, so the sliced
   * sweep never holds a database connection.
   */
  loadIn(tx: Queryable, tenantId: string, q: AvailabilityQuery, range: { from: number; to: number }, activeOnly: boolean): Promise<() => Promise<SlotPage>>;
  slots(tenantId: string, q: AvailabilityQuery, opts?: { activeOnly?: boolean }): Promise<SlotPage>;
  /**
   * The per-customer limit as it binds a signed-in user in the tenant named by `slug`: their
   * customer record (linked by user id) already holds `max` active future bookings, so every
   * booking would be refused. Null when it does not bind (no limit, no record yet, below it) or
   * the slug is unknown (the availability page answers that 404).
   */
  customerLimitFor(slug: string, userId: string): Promise<{ limit: 'per_customer'; max: number } | null>;
}

export function createAvailabilityService(deps: { db: Database; clock: Clock }): AvailabilityService {
  const { db, clock } = deps;

  const empty = (): Promise<SlotPage> => Promise.resolve({ slots: [], nextCursor: null });

  async function loadIn(tx: Queryable, tenantId: string, q: AvailabilityQuery, early: { from: number; to: number }, activeOnly: boolean) {
    // On embedded PGlite every statement executes on the event loop, and a chain of awaited
    // statements (and the next queued transaction) never lets it go: a turn before each one
    // bounds what a waiting request sits behind to one statement (ADR 0012).
    await nextTurn();
    const service = isUuid(q.serviceId) ? await findService(tx, tenantId, q.serviceId) : null;
    if (!service || (activeOnly && !service.active)) throw notFound('Service', 'serviceId');
    if (!service.active) return empty;
    await nextTurn();
    const settings = await findSettings(tx, tenantId);
    // Date-only bounds mean local midnights: resolved in the tenant zone unless the query names one.
    const range = q.timeZone === undefined && settings.timezone !== 'UTC' ? parseRange(q, settings.timezone) : early;
    const zone = q.timeZone ?? settings.timezone;
    const after = parseCursor(q.cursor);
    if (after && after.start >= range.to) return empty;
    await nextTurn();
    const schedules = await loadSchedules(tx, tenantId, {
      serviceId: service.id,
      staffId: q.staffId ?? null,
      from: new Date(Math.max(range.from, after?.start ?? range.from)),
      to: new Date(range.to + (service.durationMinutes + service.bufferMinutes) * MINUTE),
      now: new Date(clock.now()),
    });
    const now = clock.now();
    const earliestStart = now + settings.leadTimeMinutes * MINUTE;
    const latestStart = settings.bookingHorizonDays === null ? undefined : now + settings.bookingHorizonDays * 86_400_000;
    return async (): Promise<SlotPage> => {
      const page = await runSliced(sweepSlots(
        {
          timeZone: settings.timezone,
          durationMinutes: service.durationMinutes,
          bufferMinutes: service.bufferMinutes,
          bufferBeforeMinutes: service.bufferBeforeMinutes,
          intervalMinutes: service.slotIntervalMinutes,
          from: range.from,
          to: range.to,
          earliestStart,
          latestStart,
          maxPerDay: settings.maxBookingsPerStaffDay,
        },
        schedules,
        {
          limit: Math.min(q.limit ?? DEFAULT_SLOTS_PER_PAGE, MAX_SLOTS_PER_PAGE),
          maxCandidates: MAX_CANDIDATES_PER_REQUEST,
          after,
        },
      ));
      return {
        slots: page.slots.map((s) => ({
          start: iso(s.start),
          end: iso(s.end),
          staffId: s.staffId,
          localStart: formatLocalDateTime(s.start, zone),
          localEnd: formatLocalDateTime(s.end, zone),
        })),
        nextCursor: page.next ? encodeCursor(`${page.next.start}:${page.next.staffId}`) : null,
      };
    };
  }

  return {
    loadIn,
    async slots(tenantId: string, q: AvailabilityQuery, opts: { activeOnly?: boolean } = {}) {
      const range = parseRange(q);
      const compute = await withTenant(db, tenantId, (tx) => loadIn(tx, tenantId, q, range, opts.activeOnly ?? false), { readOnly: true });
      return compute();
    },
    async customerLimitFor(slug, userId) {
      const tenant = await db.transaction((tx) => findTenantBySlug(tx, slug), undefined, { readOnly: true });
      if (!tenant) return null;
      return withTenant(db, tenant.id, async (tx) => {
        const { maxFutureBookingsPerCustomer: max } = await findSettings(tx, tenant.id);
        if (max === null) return null;
        const customer = await findCustomerByUser(tx, tenant.id, userId);
        if (!customer) return null;
        // The booking path counts the same rows under a lock; without one this is advisory, and
        // a booking racing it is still refused there.
        const n = await countCustomerFutureBookings(tx, tenant.id, { customerId: customer.id, now: new Date(clock.now()) });
        return n >= max ? { limit: 'per_customer' as const, max } : null;
      }, { readOnly: true });
    },
  };
}

