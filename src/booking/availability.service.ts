import { withTenant, type Database, type Queryable } from '../db/index.js';
import { AppError } from '../errors/index.js';
import type { Clock } from '../shared/clock.js';
import { isUuid } from '../shared/ids.js';
import { decodeCursor, encodeCursor } from '../shared/pagination.js';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { DEFAULT_SLOTS_PER_PAGE, MAX_CANDIDATES_PER_REQUEST, MAX_SLOTS_PER_PAGE, sweepSlots, type SlotPage as CorePage, type SlotPosition } from './availability.core.js';
import { findService } from './services.repo.js';
import { findSettings } from './settings.repo.js';
import { loadSchedules } from './staff.repo.js';
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

/** Validates the range: end after start, at most 31 days. */
export function parseRange(q: { from: string; to: string }): { from: number; to: number } {
  const from = parseInstant(q.from, 'from');
  const to = parseInstant(q.to, 'to');
  const bad = (field: string, message: string) =>
    new AppError('validation_error', 'The request is invalid', [{ field, in: 'querystring', message }]);
  if (to <= from) throw bad('to', 'must be after from');
  if (to - from > MAX_RANGE_DAYS * 86_400_000) throw bad('to', `must be at most ${MAX_RANGE_DAYS} days after from`);
  return { from, to };
}

export interface SlotPage {
  readonly slots: Array<{ start: string; end: string; staffId: string }>;
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
}

export function createAvailabilityService(deps: { db: Database; clock: Clock }): AvailabilityService {
  const { db, clock } = deps;

  const empty = (): Promise<SlotPage> => Promise.resolve({ slots: [], nextCursor: null });

  async function loadIn(tx: Queryable, tenantId: string, q: AvailabilityQuery, range: { from: number; to: number }, activeOnly: boolean) {
    // On embedded PGlite every statement executes on the event loop, and a chain of awaited
    // statements (and the next queued transaction) never lets it go: a turn before each one
    // bounds what a waiting request sits behind to one statement (ADR 0012).
    await nextTurn();
    const service = isUuid(q.serviceId) ? await findService(tx, tenantId, q.serviceId) : null;
    if (!service || (activeOnly && !service.active)) throw notFound('Service', 'serviceId');
    if (!service.active) return empty;
    const after = parseCursor(q.cursor);
    if (after && after.start >= range.to) return empty;
    await nextTurn();
    const settings = await findSettings(tx, tenantId);
    await nextTurn();
    const schedules = await loadSchedules(tx, tenantId, {
      serviceId: service.id,
      staffId: q.staffId ?? null,
      from: new Date(Math.max(range.from, after?.start ?? range.from)),
      to: new Date(range.to + (service.durationMinutes + service.bufferMinutes) * MINUTE),
      now: new Date(clock.now()),
    });
    const earliestStart = clock.now() + settings.leadTimeMinutes * MINUTE;
    return async (): Promise<SlotPage> => {
      const page = await runSliced(sweepSlots(
        {
          timeZone: settings.timezone,
          durationMinutes: service.durationMinutes,
          bufferMinutes: service.bufferMinutes,
          from: range.from,
          to: range.to,
          earliestStart,
        },
        schedules,
        {
          limit: Math.min(q.limit ?? DEFAULT_SLOTS_PER_PAGE, MAX_SLOTS_PER_PAGE),
          maxCandidates: MAX_CANDIDATES_PER_REQUEST,
          after,
        },
      ));
      return {
        slots: page.slots.map((s) => ({ start: iso(s.start), end: iso(s.end), staffId: s.staffId })),
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
  };
}

