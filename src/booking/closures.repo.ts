import type { Queryable } from '../db/index.js';

/** A tenant-wide closure (holiday): nobody is bookable inside [start, end) (migration 015). */
export interface ClosureRecord {
  id: string;
  start: Date;
  end: Date;
  reason: string | null;
}

const COLUMNS = `id, starts_at AS "start", ends_at AS "end", reason`;

export async function insertClosure(tx: Queryable, tenantId: string, c: ClosureRecord): Promise<ClosureRecord> {
  const res = await tx.query<ClosureRecord>(
    `INSERT INTO tenant_closures (id, tenant_id, starts_at, ends_at, reason) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
    [c.id, tenantId, c.start, c.end, c.reason],
  );
  return res.rows[0]!;
}

/** Keyset page ordered by (starts_at, id). */
export async function listClosures(tx: Queryable, tenantId: string, page: { after: { start: Date; id: string } | null; limit: number }): Promise<ClosureRecord[]> {
  const res = await tx.query<ClosureRecord>(
    `SELECT ${COLUMNS} FROM tenant_closures
      WHERE tenant_id = $1 AND ($2::timestamptz IS NULL OR (starts_at, id) > ($2::timestamptz, $3::uuid))
      ORDER BY starts_at, id LIMIT $4`,
    [tenantId, page.after?.start ?? null, page.after?.id ?? null, page.limit],
  );
  return res.rows;
}

export async function deleteClosure(tx: Queryable, tenantId: string, id: string): Promise<boolean> {
  const res = await tx.query(`DELETE FROM tenant_closures WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  return res.rowCount > 0;
}
