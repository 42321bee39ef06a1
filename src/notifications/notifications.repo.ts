import type { Queryable } from '../db/index.js';

/** Everything a reservation mail needs, read in one tenant transaction. */
export interface MailContext {
  id: string;
  start: Date;
  end: Date;
  status: string;
  notes: string | null;
  sequence: number;
  reminderSentAt: Date | null;
  serviceName: string;
  staffName: string;
  customerName: string;
  customerEmail: string;
  tenantName: string;
  timezone: string;
}

const CONTEXT = `SELECT r.id, r.starts_at AS "start", r.ends_at AS "end", r.status, r.notes, r.ical_sequence AS "sequence",
    r.reminder_sent_at AS "reminderSentAt", sv.name AS "serviceName", st.display_name AS "staffName",
    c.name AS "customerName", c.email AS "customerEmail", t.name AS "tenantName", COALESCE(ts.timezone, 'UTC') AS "timezone"
  FROM reservations r
  JOIN services sv ON sv.id = r.service_id AND sv.tenant_id = r.tenant_id
  JOIN staff st ON st.id = r.staff_id AND st.tenant_id = r.tenant_id
  JOIN customers c ON c.id = r.customer_id AND c.tenant_id = r.tenant_id
  JOIN tenants t ON t.id = r.tenant_id
  LEFT JOIN tenant_settings ts ON ts.tenant_id = r.tenant_id`;

export async function findMailContext(tx: Queryable, tenantId: string, reservationId: string): Promise<MailContext | null> {
  const res = await tx.query<MailContext>(`${CONTEXT} WHERE r.tenant_id = $1 AND r.id = $2`, [tenantId, reservationId]);
  return res.rows[0] ?? null;
}

/** Up to `limit` confirmed reservations whose reminder is due at `now`, across tenants (migration 016 function). */
export async function findDueReminders(tx: Queryable, now: Date, limit: number): Promise<Array<{ tenantId: string; reservationId: string }>> {
  const res = await tx.query<{ tenantId: string; reservationId: string }>(
    `SELECT tenant_id AS "tenantId", reservation_id AS "reservationId" FROM due_reminders($1, $2)`,
    [now, limit],
  );
  return res.rows;
}

/** Claims the reminder once: of two concurrent senders, one gets true. */
export async function claimReminder(tx: Queryable, tenantId: string, reservationId: string, now: Date): Promise<boolean> {
  const res = await tx.query(
    `UPDATE reservations SET reminder_sent_at = $3 WHERE tenant_id = $1 AND id = $2 AND reminder_sent_at IS NULL AND status = 'confirmed'`,
    [tenantId, reservationId, now],
  );
  return res.rowCount > 0;
}

// Calendar feeds
export type FeedOwnerKind = 'staff' | 'customer';

export interface FeedRecord {
  id: string;
  tenantId: string;
  ownerKind: FeedOwnerKind;
  ownerId: string;
  secretHash: Uint8Array;
  createdAt: Date;
  revokedAt: Date | null;
}

const FEED_COLUMNS = `id, tenant_id AS "tenantId", owner_kind AS "ownerKind", owner_id AS "ownerId", secret_hash AS "secretHash",
  created_at AS "createdAt", revoked_at AS "revokedAt"`;

/** Revokes the owner's live feed, if any; returns how many (0 or 1). */
export async function revokeLiveFeed(tx: Queryable, tenantId: string, kind: FeedOwnerKind, ownerId: string, now: Date): Promise<number> {
  const res = await tx.query(
    `UPDATE calendar_feeds SET revoked_at = $4 WHERE tenant_id = $1 AND owner_kind = $2 AND owner_id = $3 AND revoked_at IS NULL`,
    [tenantId, kind, ownerId, now],
  );
  return res.rowCount;
}

export async function insertFeed(
  tx: Queryable,
  tenantId: string,
  f: { id: string; ownerKind: FeedOwnerKind; ownerId: string; secretHash: Buffer; createdBy: string | null; createdAt: Date },
): Promise<void> {
  await tx.query(
    `INSERT INTO calendar_feeds (id, tenant_id, owner_kind, owner_id, secret_hash, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [f.id, tenantId, f.ownerKind, f.ownerId, f.secretHash, f.createdBy, f.createdAt],
  );
}

/** The owner's live feed (never its secret: only the hash is stored). */
export async function findLiveFeed(tx: Queryable, tenantId: string, kind: FeedOwnerKind, ownerId: string): Promise<FeedRecord | null> {
  const res = await tx.query<FeedRecord>(
    `SELECT ${FEED_COLUMNS} FROM calendar_feeds WHERE tenant_id = $1 AND owner_kind = $2 AND owner_id = $3 AND revoked_at IS NULL`,
    [tenantId, kind, ownerId],
  );
  return res.rows[0] ?? null;
}

/** Outside any tenant: the calendar_feeds_by_id policy lets this transaction read that one row. */
export async function findFeedById(tx: Queryable, id: string): Promise<FeedRecord | null> {
  await tx.query(`SELECT set_config('app.calendar_feed_id', $1, true)`, [id]);
  const res = await tx.query<FeedRecord>(`SELECT ${FEED_COLUMNS} FROM calendar_feeds WHERE id = $1`, [id]);
  await tx.query(`SELECT set_config('app.calendar_feed_id', '', true)`);
  return res.rows[0] ?? null;
}

/** Active (pending or confirmed) reservations of the owner starting in [from, to), at most `limit`. */
export async function listFeedReservations(
  tx: Queryable,
  tenantId: string,
  q: { kind: FeedOwnerKind; ownerId: string; from: Date; to: Date; limit: number },
): Promise<MailContext[]> {
  const column = q.kind === 'staff' ? 'r.staff_id' : 'r.customer_id';
  const res = await tx.query<MailContext>(
    `${CONTEXT} WHERE r.tenant_id = $1 AND ${column} = $2 AND r.status IN ('pending', 'confirmed')
       AND r.starts_at >= $3 AND r.starts_at < $4 ORDER BY r.starts_at, r.id LIMIT $5`,
    [tenantId, q.ownerId, q.from, q.to, q.limit],
  );
  return res.rows;
}

/** The staff member's linked user (null: none or unknown), for "the staff member themself". */
export async function findStaffUser(tx: Queryable, tenantId: string, staffId: string): Promise<{ userId: string | null } | null> {
  const res = await tx.query<{ userId: string | null }>(`SELECT user_id AS "userId" FROM staff WHERE tenant_id = $1 AND id = $2`, [tenantId, staffId]);
  return res.rows[0] ?? null;
}

/** The customer record's linked user (null: none or unknown). */
export async function findCustomerUser(tx: Queryable, tenantId: string, customerId: string): Promise<{ userId: string | null } | null> {
  const res = await tx.query<{ userId: string | null }>(`SELECT user_id AS "userId" FROM customers WHERE tenant_id = $1 AND id = $2`, [tenantId, customerId]);
  return res.rows[0] ?? null;
}
