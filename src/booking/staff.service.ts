import { randomUUID } from 'node:crypto';
import { isUniqueViolation } from '../db/errors.js';
import { withTenant, type Database, type Queryable } from '../db/index.js';
import { AppError } from '../errors/index.js';
import { decodeCursor, toPage, type Page } from '../shared/pagination.js';
import { isUuid } from '../shared/ids.js';
import { findMemberRole } from '../tenancy/members.repo.js';
import { findOverlappingHours, type WeeklyHours } from './availability.core.js';
import { existingServiceIds } from './services.repo.js';
import * as repo from './staff.repo.js';
import type { StaffRecord } from './staff.repo.js';
import { formatClock, parseClock, parseLocalDate } from './timezone.core.js';
import { notFound, parseInstant, toStaff, toTimeOff, type WireStaff, type WireTimeOff } from './wire.js';

const invalid = (field: string, message: string) => new AppError('validation_error', 'The request is invalid', [{ field, message }]);

/** Wire hours (`{weekday, start: "HH:MM", end}`) → minutes, refusing empty and overlapping ranges. */
function parseHours(items: ReadonlyArray<{ weekday: number; start: string; end: string }>): WeeklyHours[] {
  const hours = items.map((h, i) => {
    const startMinute = parseClock(h.start);
    const endMinute = parseClock(h.end);
    if (startMinute === null || startMinute >= 1440) throw invalid(`hours.${i}.start`, 'must be HH:MM between 00:00 and 23:59');
    if (endMinute === null) throw invalid(`hours.${i}.end`, 'must be HH:MM between 00:01 and 24:00');
    if (endMinute <= startMinute) throw invalid(`hours.${i}.end`, 'must be after start');
    return { weekday: h.weekday, startMinute, endMinute };
  });
  const clash = findOverlappingHours(hours);
  if (clash) throw invalid(`hours.${clash[1]}`, `overlaps hours.${clash[0]} on the same weekday`);
  return hours;
}

/** Weekly hours on the wire: `HH:MM` clock times, `end` exclusive (up to 24:00). */
export interface WireHours {
  weekday: number;
  start: string;
  end: string;
}

function toWireHours(hours: readonly WeeklyHours[]): WireHours[] {
  return hours.map((h) => ({ weekday: h.weekday, start: formatClock(h.startMinute), end: formatClock(h.endMinute) }));
}

/** Per-date hours on the wire. */
export interface WireDateHours {
  date: string;
  hours: Array<{ start: string; end: string }>;
}

function toWireDateHours(rows: ReadonlyArray<{ date: string; startMinute: number; endMinute: number }>): WireDateHours[] {
  const out: WireDateHours[] = [];
  for (const r of rows) {
    const last = out[out.length - 1];
    const h = { start: formatClock(r.startMinute), end: formatClock(r.endMinute) };
    if (last && last.date === r.date) last.hours.push(h);
    else out.push({ date: r.date, hours: [h] });
  }
  return out;
}

function assertDate(date: string, field: string): void {
  if (parseLocalDate(date) === null) throw invalid(field, 'is not a calendar date YYYY-MM-DD');
}

/** Staff members, the services they perform, their weekly hours and their time off. */
export interface StaffService {
  list(tenantId: string, query: { cursor?: string; limit: number }): Promise<Page<WireStaff>>;
  /** One staff member with the services they perform and their weekly hours. */
  get(tenantId: string, id: string): Promise<WireStaff & { serviceIds: string[]; hours: WireHours[] }>;
  /** A linked `userId` must be a member of the tenant and linked to no other staff member. */
  create(tenantId: string, input: { displayName: string; userId?: string; active?: boolean }): Promise<WireStaff>;
  update(tenantId: string, id: string, patch: { displayName?: string; userId?: string | null; active?: boolean }): Promise<WireStaff>;
  /** Deletes, or only deactivates a staff member who has reservations. */
  remove(tenantId: string, id: string): Promise<{ deactivated: boolean }>;
  /** Replaces the services the staff member performs; every id must exist. */
  setServices(tenantId: string, id: string, serviceIds: readonly string[]): Promise<{ serviceIds: string[] }>;
  /** Replaces the weekly hours, refusing empty and overlapping ranges. */
  setHours(tenantId: string, id: string, items: ReadonlyArray<WireHours>): Promise<{ hours: WireHours[] }>;
  listTimeOff(tenantId: string, id: string, query: { cursor?: string; limit: number }): Promise<Page<WireTimeOff>>;
  addTimeOff(tenantId: string, id: string, input: { start: string; end: string; reason?: string }): Promise<WireTimeOff>;
  removeTimeOff(tenantId: string, id: string, timeOffId: string): Promise<void>;
  /** Hours on one local date that replace the weekly hours of that date (extra or changed hours); [] = back to weekly. */
  setDateHours(tenantId: string, id: string, date: string, items: ReadonlyArray<{ start: string; end: string }>): Promise<WireDateHours>;
  /** Per-date hours on up to 100 dates from `from` (default: all) on. */
  listDateHours(tenantId: string, id: string, query: { from?: string }): Promise<{ items: WireDateHours[] }>;
}

export function createStaffService(deps: { db: Database }): StaffService {
  const { db } = deps;

  async function load(tx: Queryable, tenantId: string, id: string): Promise<StaffRecord> {
    const s = isUuid(id) ? await repo.findStaff(tx, tenantId, id) : null;
    if (!s) throw notFound('Staff member');
    return s;
  }

  async function assertMember(tx: Queryable, tenantId: string, userId: string | null | undefined): Promise<void> {
    if (!userId) return;
    if (!(await findMemberRole(tx, tenantId, userId))) {
      throw new AppError('not_found', 'No member of this tenant has this user id', { field: 'userId' });
    }
  }

  function mapUnique<T>(p: Promise<T>): Promise<T> {
    return p.catch((err: unknown) => {
      if (isUniqueViolation(err)) throw new AppError('duplicate_resource', 'This user is already linked to a staff member', { field: 'userId' });
      throw err;
    });
  }

  return {
    list(tenantId: string, query: { cursor?: string; limit: number }) {
      const after = decodeCursor(query.cursor, isUuid);
      return withTenant(db, tenantId, async (tx) => {
        const page = toPage(await repo.listStaff(tx, tenantId, { after, limit: query.limit + 1 }), query.limit, (s) => s.id);
        return { items: page.items.map(toStaff), nextCursor: page.nextCursor };
      }, { readOnly: true });
    },

    get(tenantId: string, id: string) {
      return withTenant(db, tenantId, async (tx) => {
        const s = await load(tx, tenantId, id);
        const [serviceIds, hours] = [await repo.listStaffServiceIds(tx, tenantId, s.id), await repo.listHours(tx, tenantId, s.id)];
        return { ...toStaff(s), serviceIds, hours: toWireHours(hours) };
      }, { readOnly: true });
    },

    create(tenantId: string, input: { displayName: string; userId?: string; active?: boolean }) {
      return mapUnique(
        withTenant(db, tenantId, async (tx) => {
          await assertMember(tx, tenantId, input.userId);
          const s = await repo.insertStaff(tx, tenantId, {
            id: randomUUID(),
            displayName: input.displayName,
            userId: input.userId ?? null,
            active: input.active ?? true,
          });
          return toStaff(s);
        }),
      );
    },

    update(tenantId: string, id: string, patch: { displayName?: string; userId?: string | null; active?: boolean }) {
      return mapUnique(
        withTenant(db, tenantId, async (tx) => {
          const current = await load(tx, tenantId, id);
          await assertMember(tx, tenantId, patch.userId);
          return toStaff(await repo.updateStaff(tx, tenantId, { ...current, ...patch }));
        }),
      );
    },

    remove(tenantId: string, id: string) {
      return withTenant(db, tenantId, async (tx) => {
        const current = await load(tx, tenantId, id);
        if (await repo.hasReservationsForStaff(tx, tenantId, current.id)) {
          await repo.updateStaff(tx, tenantId, { ...current, active: false });
          return { deactivated: true };
        }
        await repo.deleteStaff(tx, tenantId, current.id);
        return { deactivated: false };
      });
    },

    setServices(tenantId: string, id: string, serviceIds: readonly string[]) {
      return withTenant(db, tenantId, async (tx) => {
        const s = await load(tx, tenantId, id);
        const known = await existingServiceIds(tx, tenantId, serviceIds);
        const unknown = serviceIds.filter((sid) => !known.has(sid));
        if (unknown.length > 0) throw new AppError('not_found', 'Unknown service ids', { field: 'serviceIds', unknown });
        await repo.replaceStaffServices(tx, tenantId, s.id, serviceIds);
        return { serviceIds: await repo.listStaffServiceIds(tx, tenantId, s.id) };
      });
    },

    setHours(tenantId: string, id: string, items: ReadonlyArray<{ weekday: number; start: string; end: string }>) {
      const hours = parseHours(items);
      return withTenant(db, tenantId, async (tx) => {
        const s = await load(tx, tenantId, id);
        await repo.replaceHours(tx, tenantId, s.id, hours);
        return { hours: toWireHours(await repo.listHours(tx, tenantId, s.id)) };
      });
    },

    listTimeOff(tenantId: string, id: string, query: { cursor?: string; limit: number }) {
      const after = decodeCursor(query.cursor, isUuid);
      return withTenant(db, tenantId, async (tx) => {
        const s = await load(tx, tenantId, id);
        const page = toPage(await repo.listTimeOff(tx, tenantId, s.id, { after, limit: query.limit + 1 }), query.limit, (t) => t.id);
        return { items: page.items.map(toTimeOff), nextCursor: page.nextCursor };
      }, { readOnly: true });
    },

    addTimeOff(tenantId: string, id: string, input: { start: string; end: string; reason?: string }) {
      const start = parseInstant(input.start, 'start');
      const end = parseInstant(input.end, 'end');
      if (end <= start) throw invalid('end', 'must be after start');
      return withTenant(db, tenantId, async (tx) => {
        const s = await load(tx, tenantId, id);
        const t = await repo.insertTimeOff(tx, tenantId, {
          id: randomUUID(),
          staffId: s.id,
          start: new Date(start),
          end: new Date(end),
          reason: input.reason ?? null,
        });
        return toTimeOff(t);
      });
    },

    setDateHours(tenantId: string, id: string, date: string, items: ReadonlyArray<{ start: string; end: string }>) {
      assertDate(date, 'date');
      const hours = parseHours(items.map((h) => ({ ...h, weekday: 0 })));
      return withTenant(db, tenantId, async (tx) => {
        const s = await load(tx, tenantId, id);
        await repo.replaceDateHours(tx, tenantId, s.id, date, hours);
        const saved = toWireDateHours(await repo.listDateHours(tx, tenantId, s.id, { from: date, limit: 1 }));
        return saved[0]?.date === date ? saved[0] : { date, hours: [] };
      });
    },

    listDateHours(tenantId: string, id: string, query: { from?: string }) {
      if (query.from !== undefined) assertDate(query.from, 'from');
      return withTenant(db, tenantId, async (tx) => {
        const s = await load(tx, tenantId, id);
        return { items: toWireDateHours(await repo.listDateHours(tx, tenantId, s.id, { from: query.from ?? '0001-01-01', limit: 100 })) };
      }, { readOnly: true });
    },

    removeTimeOff(tenantId: string, id: string, timeOffId: string) {
      return withTenant(db, tenantId, async (tx) => {
        const s = await load(tx, tenantId, id);
        if (!isUuid(timeOffId) || !(await repo.deleteTimeOff(tx, tenantId, s.id, timeOffId))) throw notFound('Time off');
      });
    },
  };
}
