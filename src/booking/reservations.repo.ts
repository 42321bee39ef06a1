import type { Queryable } from '../db/index.js';
import type { ReservationStatus } from './reservation-status.core.js';

export interface ReservationRecord {
  id: string;
  serviceId: string;
  staffId: string;
  customerId: string;
  start: Date;
  end: Date;
  blockedUntil: Date;
  status: ReservationStatus;
  notes: string | null;
  /** A pending guest booking holds its slot until then; null = no expiry. */
  holdExpiresAt: Date | null;
  /** The linked users, for own-only visibility. */
  staffUserId: string | null;
  customerUserId: string | null;
}

const SELECT = `SELECT r.id, r.service_id AS "serviceId", r.staff_id AS "staffId", r.customer_id AS "customerId",
  r.starts_at AS "start", r.ends_at AS "end", r.blocked_until AS "blockedUntil", r.status, r.notes,
  r.hold_expires_at AS "holdExpiresAt",
  s.user_id AS "staffUserId", c.user_id AS "customerUserId"
  FROM reservations r
  JOIN staff s ON s.id = r.staff_id AND s.tenant_id = r.tenant_id
  JOIN customers c ON c.id = r.customer_id AND c.tenant_id = r.tenant_id`;

export async function insertReservation(
  tx: Queryable,
  tenantId: string,
  r: Omit<ReservationRecord, 'staffUserId' | 'customerUserId' | 'holdExpiresAt'> & { createdBy: string | null; holdExpiresAt?: Date | null; blockedFrom?: Date },
): Promise<void> {
  await tx.query(
    `INSERT INTO reservations (id, tenant_id, service_id, staff_id, customer_id, starts_at, ends_at, blocked_until, status, notes, created_by, hold_expires_at, blocked_from)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
    [r.id, tenantId, r.serviceId, r.staffId, r.customerId, r.start, r.end, r.blockedUntil, r.status, r.notes, r.createdBy, r.holdExpiresAt ?? null,
      r.blockedFrom ?? r.start],
  );
}

/**
 * Cancels the pending holds of `staffId` that lapsed by `now` and overlap [start, blockedUntil):
 * expiry without a job queue (ADR 0018). Run in the transaction that is about to take the slot,
 * so the exclusion constraint no longer counts them.
 */
export async function expireLapsedHolds(tx: Queryable, tenantId: string, q: { staffId: string; start: Date; blockedUntil: Date; now: Date }): Promise<string[]> {
  const res = await tx.query<{ id: string }>(
    `UPDATE reservations SET status = 'cancelled', updated_at = now()
      WHERE tenant_id = $1 AND staff_id = $2 AND status = 'pending' AND hold_expires_at IS NOT NULL AND hold_expires_at <= $5
        AND tstzrange(starts_at, blocked_until, '[)') && tstzrange($3, $4, '[)')
      RETURNING id`,
    [tenantId, q.staffId, q.start, q.blockedUntil, q.now],
  );
  return res.rows.map((r) => r.id);
}

/** Lapsed guest holds across tenants, ids only (SECURITY DEFINER `lapsed_holds`, migration 017). */
export async function findLapsedHolds(tx: Queryable, at: Date, limit: number): Promise<Array<{ tenantId: string; reservationId: string }>> {
  const res = await tx.query<{ tenantId: string; reservationId: string }>(
    'SELECT tenant_id AS "tenantId", reservation_id AS "reservationId" FROM lapsed_holds($1, $2)', [at, limit]);
  return res.rows;
}

/** Cancels those of `ids` that are still lapsed holds at `now` (a confirm may have won); returns them. */
export async function cancelLapsedHolds(tx: Queryable, tenantId: string, ids: readonly string[], now: Date): Promise<string[]> {
  const res = await tx.query<{ id: string }>(
    `UPDATE reservations SET status = 'cancelled', updated_at = now()
      WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND status = 'pending' AND hold_expires_at IS NOT NULL AND hold_expires_at <= $3
      RETURNING id`,
    [tenantId, ids, now],
  );
  return res.rows.map((r) => r.id);
}

/**
 * The one lock order of every reservation change: the staff row first, then the reservation
 * row(s). A booking or reschedule locks its staff member before its checks (the per-day limit,
 * the buffer before) and then cancels that staff member's lapsed holds; a change that locked a
 * reservation first and its staff member second could hold a lapsed hold R while waiting for S,
 * as that booking holds S and waits for R: PostgreSQL aborts one of them (40P01, a 500). So a
 * change locks the reservation only through this function, which takes S first. `staff_id` is
 * never updated (a reschedule keeps its staff member), so the unlocked read that finds S stays
 * true once S is held. Null when no such reservation is visible.
 */
export async function lockReservationForChange(tx: Queryable, tenantId: string, id: string): Promise<ReservationRecord | null> {
  const staff = await tx.query(
    `SELECT s.id FROM reservations r JOIN staff s ON s.tenant_id = r.tenant_id AND s.id = r.staff_id
      WHERE r.tenant_id = $1 AND r.id = $2 FOR UPDATE OF s`,
    [tenantId, id],
  );
  if (staff.rows.length === 0) return null;
  const res = await tx.query<ReservationRecord>(`${SELECT} WHERE r.tenant_id = $1 AND r.id = $2 FOR UPDATE OF r`, [tenantId, id]);
  return res.rows[0] ?? null;
}

/**
 * Locks the staff rows of `ids` in id order before a batch of them changes (the cleanup's hold
 * sweeper): the same staff-then-reservation order as `lockReservationForChange`, and the id
 * order keeps two sweepers from locking two staff members in opposite orders.
 */
export async function lockStaffOfReservations(tx: Queryable, tenantId: string, ids: readonly string[]): Promise<void> {
  await tx.query(
    `SELECT id FROM staff WHERE tenant_id = $1
        AND id IN (SELECT staff_id FROM reservations WHERE tenant_id = $1 AND id = ANY($2::uuid[]))
      ORDER BY id FOR UPDATE`,
    [tenantId, ids],
  );
}

/** Reads without a lock; a change locks through `lockReservationForChange`. */
export async function findReservation(tx: Queryable, tenantId: string, id: string): Promise<ReservationRecord | null> {
  const res = await tx.query<ReservationRecord>(`${SELECT} WHERE r.tenant_id = $1 AND r.id = $2`, [tenantId, id]);
  return res.rows[0] ?? null;
}

/** An active reservation of `staffId` whose footprint overlaps [start, blockedUntil). */
export async function findClash(
  tx: Queryable,
  tenantId: string,
  q: { staffId: string; start: Date; blockedUntil: Date; excludeId: string | null },
): Promise<{ id: string; start: Date; end: Date } | null> {
  const res = await tx.query<{ id: string; start: Date; end: Date }>(
    `SELECT id, starts_at AS "start", ends_at AS "end" FROM reservations
      WHERE tenant_id = $1 AND staff_id = $2 AND status IN ('pending', 'confirmed')
        AND starts_at < $4 AND blocked_until > $3 AND ($5::uuid IS NULL OR id <> $5::uuid)
      ORDER BY starts_at LIMIT 1`,
    [tenantId, q.staffId, q.start, q.blockedUntil, q.excludeId],
  );
  return res.rows[0] ?? null;
}

export interface ReservationFilter {
  from: Date | null;
  to: Date | null;
  staffId: string | null;
  customerId: string | null;
  status: ReservationStatus | null;
  /** Own-only visibility: rows whose staff or customer is linked to this user. */
  visibleToUser: string | null;
  after: { start: Date; id: string } | null;
  limit: number;
}

/** Keyset page ordered by (starts_at, id). */
export async function listReservations(tx: Queryable, tenantId: string, f: ReservationFilter): Promise<ReservationRecord[]> {
  const res = await tx.query<ReservationRecord>(
    `${SELECT}
      WHERE r.tenant_id = $1
        AND ($2::timestamptz IS NULL OR r.starts_at >= $2) AND ($3::timestamptz IS NULL OR r.starts_at < $3)
        AND ($4::uuid IS NULL OR r.staff_id = $4) AND ($5::uuid IS NULL OR r.customer_id = $5)
        AND ($6::text IS NULL OR r.status = $6)
        AND ($7::uuid IS NULL OR s.user_id = $7 OR c.user_id = $7)
        AND ($8::timestamptz IS NULL OR (r.starts_at, r.id) > ($8::timestamptz, $9::uuid))
      ORDER BY r.starts_at, r.id LIMIT $10`,
    [tenantId, f.from, f.to, f.staffId, f.customerId, f.status, f.visibleToUser, f.after?.start ?? null, f.after?.id ?? null, f.limit],
  );
  return res.rows;
}

export async function updateStatus(tx: Queryable, tenantId: string, id: string, status: ReservationStatus): Promise<void> {
  // Leaving `pending` ends any hold: a confirmed guest booking keeps its slot for good.
  await tx.query(
    `UPDATE reservations SET status = $3, updated_at = now(), hold_expires_at = CASE WHEN $3 = 'pending' THEN hold_expires_at END
      WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id, status],
  );
}

export async function updateTimes(
  tx: Queryable,
  tenantId: string,
  id: string,
  t: { start: Date; end: Date; blockedUntil: Date; blockedFrom?: Date },
): Promise<void> {
  await tx.query(
    `UPDATE reservations SET starts_at = $3, ends_at = $4, blocked_until = $5, blocked_from = $6, updated_at = now() WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id, t.start, t.end, t.blockedUntil, t.blockedFrom ?? t.start],
  );
}

/** Active future bookings (starting after `now`, lapsed holds excluded) of `customerId`. */
export async function countCustomerFutureBookings(tx: Queryable, tenantId: string, q: { customerId: string; now: Date }): Promise<number> {
  const res = await tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM reservations
      WHERE tenant_id = $1 AND customer_id = $2 AND starts_at > $3 AND status IN ('pending', 'confirmed')
        AND NOT (status = 'pending' AND hold_expires_at IS NOT NULL AND hold_expires_at <= $3)`,
    [tenantId, q.customerId, q.now],
  );
  return res.rows[0]?.n ?? 0;
}

/**
 * Row-locks the customer for the rest of the transaction, so two bookings of one customer count
 * its future bookings one after the other (the per-customer limit is race-safe).
 */
export async function lockCustomer(tx: Queryable, tenantId: string, customerId: string): Promise<void> {
  await tx.query(`SELECT 1 FROM customers WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, [tenantId, customerId]);
}
