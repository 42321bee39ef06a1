import type { Queryable } from '../db/index.js';
import type { StaffSchedule, WeeklyHours } from './availability.core.js';

export interface StaffRecord {
  id: string;
  displayName: string;
  userId: string | null;
  active: boolean;
}

export interface TimeOffRecord {
  id: string;
  start: Date;
  end: Date;
  reason: string | null;
}

const COLUMNS = `id, display_name AS "displayName", user_id AS "userId", active`;

export async function insertStaff(tx: Queryable, tenantId: string, s: StaffRecord): Promise<StaffRecord> {
  const res = await tx.query<StaffRecord>(
    `INSERT INTO staff (id, tenant_id, display_name, user_id, active) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
    [s.id, tenantId, s.displayName, s.userId, s.active],
  );
  return res.rows[0]!;
}

export async function findStaff(tx: Queryable, tenantId: string, id: string): Promise<StaffRecord | null> {
  const res = await tx.query<StaffRecord>(`SELECT ${COLUMNS} FROM staff WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  return res.rows[0] ?? null;
}

export async function listStaff(tx: Queryable, tenantId: string, page: { after: string | null; limit: number }): Promise<StaffRecord[]> {
  const res = await tx.query<StaffRecord>(
    `SELECT ${COLUMNS} FROM staff WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id > $2::uuid) ORDER BY id LIMIT $3`,
    [tenantId, page.after, page.limit],
  );
  return res.rows;
}

export async function updateStaff(tx: Queryable, tenantId: string, s: StaffRecord): Promise<StaffRecord> {
  const res = await tx.query<StaffRecord>(
    `UPDATE staff SET display_name = $3, user_id = $4, active = $5 WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
    [tenantId, s.id, s.displayName, s.userId, s.active],
  );
  return res.rows[0]!;
}

export async function hasReservationsForStaff(tx: Queryable, tenantId: string, id: string): Promise<boolean> {
  const res = await tx.query(`SELECT 1 FROM reservations WHERE tenant_id = $1 AND staff_id = $2 LIMIT 1`, [tenantId, id]);
  return res.rows.length > 0;
}

export async function deleteStaff(tx: Queryable, tenantId: string, id: string): Promise<void> {
  await tx.query(`DELETE FROM staff WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
}

export async function listStaffServiceIds(tx: Queryable, tenantId: string, staffId: string): Promise<string[]> {
  const res = await tx.query<{ serviceId: string }>(
    `SELECT service_id AS "serviceId" FROM staff_services WHERE tenant_id = $1 AND staff_id = $2 ORDER BY service_id`,
    [tenantId, staffId],
  );
  return res.rows.map((r) => r.serviceId);
}

/**
 * Row-locks the staff member for the rest of the transaction, so concurrent replace-set
 * operations (services, hours) on one staff member run one after the other instead of both
 * deleting the old set and both inserting the new one (a unique violation, i.e. a 500).
 */
export async function lockStaff(tx: Queryable, tenantId: string, staffId: string): Promise<void> {
  await tx.query(`SELECT 1 FROM staff WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, [tenantId, staffId]);
}

export async function replaceStaffServices(tx: Queryable, tenantId: string, staffId: string, serviceIds: readonly string[]): Promise<void> {
  await lockStaff(tx, tenantId, staffId);
  await tx.query(`DELETE FROM staff_services WHERE tenant_id = $1 AND staff_id = $2`, [tenantId, staffId]);
  if (serviceIds.length === 0) return;
  await tx.query(
    `INSERT INTO staff_services (tenant_id, staff_id, service_id) SELECT $1, $2, unnest($3::uuid[])`,
    [tenantId, staffId, serviceIds],
  );
}

export async function listHours(tx: Queryable, tenantId: string, staffId: string): Promise<WeeklyHours[]> {
  const res = await tx.query<WeeklyHours>(
    `SELECT weekday, start_minute AS "startMinute", end_minute AS "endMinute" FROM staff_hours
      WHERE tenant_id = $1 AND staff_id = $2 ORDER BY weekday, start_minute`,
    [tenantId, staffId],
  );
  return res.rows;
}

export async function replaceHours(tx: Queryable, tenantId: string, staffId: string, hours: readonly WeeklyHours[]): Promise<void> {
  await lockStaff(tx, tenantId, staffId);
  await tx.query(`DELETE FROM staff_hours WHERE tenant_id = $1 AND staff_id = $2`, [tenantId, staffId]);
  if (hours.length === 0) return;
  await tx.query(
    `INSERT INTO staff_hours (tenant_id, staff_id, weekday, start_minute, end_minute)
     SELECT $1, $2, w, s, e FROM unnest($3::int[], $4::int[], $5::int[]) AS h(w, s, e)`,
    [tenantId, staffId, hours.map((h) => h.weekday), hours.map((h) => h.startMinute), hours.map((h) => h.endMinute)],
  );
}

/** Replaces the per-date hours of `staffId` on `date` (empty: back to the weekly hours). */
export async function replaceDateHours(tx: Queryable, tenantId: string, staffId: string, date: string, hours: ReadonlyArray<{ startMinute: number; endMinute: number }>): Promise<void> {
  await lockStaff(tx, tenantId, staffId);
  await tx.query(`DELETE FROM staff_date_hours WHERE tenant_id = $1 AND staff_id = $2 AND date = $3::date`, [tenantId, staffId, date]);
  if (hours.length === 0) return;
  await tx.query(
    `INSERT INTO staff_date_hours (tenant_id, staff_id, date, start_minute, end_minute)
     SELECT $1, $2, $3::date, s, e FROM unnest($4::int[], $5::int[]) AS h(s, e)`,
    [tenantId, staffId, date, hours.map((h) => h.startMinute), hours.map((h) => h.endMinute)],
  );
}

/** Per-date hours of `staffId` on up to `limit` dates from `from` on, by date. */
export async function listDateHours(tx: Queryable, tenantId: string, staffId: string, q: { from: string; limit: number }): Promise<Array<{ date: string; startMinute: number; endMinute: number }>> {
  const res = await tx.query<{ date: string; startMinute: number; endMinute: number }>(
    `SELECT to_char(date, 'YYYY-MM-DD') AS date, start_minute AS "startMinute", end_minute AS "endMinute" FROM staff_date_hours
      WHERE tenant_id = $1 AND staff_id = $2 AND date >= $3::date
        AND date IN (SELECT DISTINCT date FROM staff_date_hours WHERE tenant_id = $1 AND staff_id = $2 AND date >= $3::date ORDER BY date LIMIT $4)
      ORDER BY date, start_minute`,
    [tenantId, staffId, q.from, q.limit],
  );
  return res.rows;
}

const TIME_OFF_COLUMNS = `id, starts_at AS "start", ends_at AS "end", reason`;

export async function insertTimeOff(
  tx: Queryable,
  tenantId: string,
  t: { id: string; staffId: string; start: Date; end: Date; reason: string | null },
): Promise<TimeOffRecord> {
  const res = await tx.query<TimeOffRecord>(
    `INSERT INTO time_off (id, tenant_id, staff_id, starts_at, ends_at, reason) VALUES ($1, $2, $3, $4, $5, $6)
     RETURNING ${TIME_OFF_COLUMNS}`,
    [t.id, tenantId, t.staffId, t.start, t.end, t.reason],
  );
  return res.rows[0]!;
}

export async function listTimeOff(
  tx: Queryable,
  tenantId: string,
  staffId: string,
  page: { after: string | null; limit: number },
): Promise<TimeOffRecord[]> {
  const res = await tx.query<TimeOffRecord>(
    `SELECT ${TIME_OFF_COLUMNS} FROM time_off WHERE tenant_id = $1 AND staff_id = $2 AND ($3::uuid IS NULL OR id > $3::uuid)
      ORDER BY id LIMIT $4`,
    [tenantId, staffId, page.after, page.limit],
  );
  return res.rows;
}

export async function deleteTimeOff(tx: Queryable, tenantId: string, staffId: string, id: string): Promise<boolean> {
  const res = await tx.query(`DELETE FROM time_off WHERE tenant_id = $1 AND staff_id = $2 AND id = $3`, [tenantId, staffId, id]);
  return res.rowCount > 0;
}

/**
 * Everything availability needs for the active staff members performing `serviceId`, in one
 * round trip: per staff member its weekly hours, its per-date hours near [from, to), its time off
 * plus the tenant's closures, and its active reservations' (a pending guest hold whose
 * `hold_expires_at` has passed by `now` is free, ADR 0018) footprints [blocked_from,
 * blocked_until) and starts, a day either side of [from, to) so the per-day limit sees whole
 * local dates. The reservation filter uses the exclusion constraint's
 * GiST index (staff_id, tstzrange).
 */
export async function loadSchedules(
  tx: Queryable,
  tenantId: string,
  q: { serviceId: string; staffId: string | null; from: Date; to: Date; excludeReservationId?: string; now: Date },
): Promise<StaffSchedule[]> {
  const res = await tx.query<{ id: string; hours: unknown; off: unknown; dates: unknown; busy: unknown }>(
    `SELECT s.id,
       COALESCE((SELECT json_agg(json_build_array(h.weekday, h.start_minute, h.end_minute))
                   FROM staff_hours h WHERE h.tenant_id = $1 AND h.staff_id = s.id), '[]') AS hours,
       COALESCE((SELECT json_agg(json_build_array(extract(epoch FROM t.starts_at) * 1000, extract(epoch FROM t.ends_at) * 1000))
                   FROM (SELECT starts_at, ends_at FROM time_off WHERE tenant_id = $1 AND staff_id = s.id AND starts_at < $5 AND ends_at > $4
                         UNION ALL
                         SELECT starts_at, ends_at FROM tenant_closures WHERE tenant_id = $1 AND starts_at < $5 AND ends_at > $4) t), '[]') AS off,
       COALESCE((SELECT json_agg(json_build_array(to_char(d.date, 'YYYY-MM-DD'), d.start_minute, d.end_minute))
                   FROM staff_date_hours d WHERE d.tenant_id = $1 AND d.staff_id = s.id
                    AND d.date BETWEEN ($4::timestamptz AT TIME ZONE 'UTC')::date - 2 AND ($5::timestamptz AT TIME ZONE 'UTC')::date + 2), '[]') AS dates,
       COALESCE((SELECT json_agg(json_build_array(extract(epoch FROM COALESCE(r.blocked_from, r.starts_at)) * 1000, extract(epoch FROM r.blocked_until) * 1000,
                                                  extract(epoch FROM r.starts_at) * 1000))
                   FROM reservations r
                  WHERE r.tenant_id = $1 AND r.staff_id = s.id AND r.status IN ('pending', 'confirmed')
                    AND tstzrange(r.starts_at, r.blocked_until, '[)') && tstzrange($4 - interval '1 day', $5 + interval '1 day', '[)')
                    AND ($6::uuid IS NULL OR r.id <> $6::uuid)
                    AND NOT (r.status = 'pending' AND r.hold_expires_at IS NOT NULL AND r.hold_expires_at <= $7)), '[]') AS busy
       FROM staff s JOIN staff_services ss ON ss.staff_id = s.id AND ss.tenant_id = s.tenant_id
      WHERE s.tenant_id = $1 AND s.active AND ss.service_id = $2 AND ($3::uuid IS NULL OR s.id = $3::uuid)
      ORDER BY s.id`,
    [tenantId, q.serviceId, q.staffId, q.from, q.to, q.excludeReservationId ?? null, q.now],
  );
  const parse = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v) as Array<number[]>;
  const parseDates = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v) as Array<[string, number, number]>;
  return res.rows.map((r) => ({
    staffId: r.id,
    hours: parse(r.hours).map(([weekday, startMinute, endMinute]) => ({ weekday: weekday!, startMinute: startMinute!, endMinute: endMinute! })),
    dateHours: parseDates(r.dates).map(([date, startMinute, endMinute]) => ({ date, startMinute, endMinute })),
    timeOff: parse(r.off).map(([start, end]) => ({ start: Number(start), end: Number(end) })),
    busy: parse(r.busy).map(([start, end]) => ({ start: Number(start), end: Number(end) })),
    bookingStarts: parse(r.busy).map(([, , start]) => Number(start)),
  }));
}
