import type { Queryable } from '../db/index.js';

export interface ServiceRecord {
  id: string;
  name: string;
  durationMinutes: number;
  bufferMinutes: number;
  /** Buffer before each booking (migration 015). */
  bufferBeforeMinutes: number;
  /** Slot grid step; null = `durationMinutes` (migration 015). */
  slotIntervalMinutes: number | null;
  priceCents: number;
  currency: string;
  active: boolean;
}

const COLUMNS = `id, name, duration_minutes AS "durationMinutes", buffer_minutes AS "bufferMinutes",
  price_cents::float8 AS "priceCents", currency, active,
  buffer_before_minutes AS "bufferBeforeMinutes", slot_interval_minutes AS "slotIntervalMinutes"`;

export async function insertService(tx: Queryable, tenantId: string, s: ServiceRecord): Promise<ServiceRecord> {
  const res = await tx.query<ServiceRecord>(
    `INSERT INTO services (id, tenant_id, name, duration_minutes, buffer_minutes, price_cents, currency, active, buffer_before_minutes, slot_interval_minutes)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${COLUMNS}`,
    [s.id, tenantId, s.name, s.durationMinutes, s.bufferMinutes, s.priceCents, s.currency, s.active, s.bufferBeforeMinutes, s.slotIntervalMinutes],
  );
  return res.rows[0]!;
}

export async function findService(tx: Queryable, tenantId: string, id: string): Promise<ServiceRecord | null> {
  const res = await tx.query<ServiceRecord>(`SELECT ${COLUMNS} FROM services WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  return res.rows[0] ?? null;
}

export async function listServices(
  tx: Queryable,
  tenantId: string,
  page: { after: string | null; limit: number; activeOnly?: boolean },
): Promise<ServiceRecord[]> {
  const res = await tx.query<ServiceRecord>(
    `SELECT ${COLUMNS} FROM services
      WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id > $2::uuid) AND (NOT $4 OR active)
      ORDER BY id LIMIT $3`,
    [tenantId, page.after, page.limit, page.activeOnly ?? false],
  );
  return res.rows;
}

export async function updateService(tx: Queryable, tenantId: string, s: ServiceRecord): Promise<ServiceRecord> {
  const res = await tx.query<ServiceRecord>(
    `UPDATE services SET name = $3, duration_minutes = $4, buffer_minutes = $5, price_cents = $6, currency = $7, active = $8,
       buffer_before_minutes = $9, slot_interval_minutes = $10
      WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
    [tenantId, s.id, s.name, s.durationMinutes, s.bufferMinutes, s.priceCents, s.currency, s.active, s.bufferBeforeMinutes, s.slotIntervalMinutes],
  );
  return res.rows[0]!;
}

export async function hasReservationsForService(tx: Queryable, tenantId: string, id: string): Promise<boolean> {
  const res = await tx.query(`SELECT 1 FROM reservations WHERE tenant_id = $1 AND service_id = $2 LIMIT 1`, [tenantId, id]);
  return res.rows.length > 0;
}

export async function deleteService(tx: Queryable, tenantId: string, id: string): Promise<void> {
  await tx.query(`DELETE FROM services WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
}

/** Which of `ids` exist in the tenant. */
export async function existingServiceIds(tx: Queryable, tenantId: string, ids: readonly string[]): Promise<Set<string>> {
  const res = await tx.query<{ id: string }>(`SELECT id FROM services WHERE tenant_id = $1 AND id = ANY($2::uuid[])`, [tenantId, ids]);
  return new Set(res.rows.map((r) => r.id));
}
