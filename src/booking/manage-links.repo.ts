import type { Queryable } from '../db/index.js';

export interface ManageLinkRecord {
  id: string;
  tenantId: string;
  reservationId: string;
  secretHash: Uint8Array;
  usedAt: Date | null;
}

const COLUMNS = `id, tenant_id AS "tenantId", reservation_id AS "reservationId", secret_hash AS "secretHash", used_at AS "usedAt"`;

export async function insertManageLink(
  tx: Queryable,
  tenantId: string,
  l: { id: string; reservationId: string; secretHash: Buffer; createdAt: Date },
): Promise<void> {
  await tx.query(
    `INSERT INTO manage_links (id, tenant_id, reservation_id, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5)`,
    [l.id, tenantId, l.reservationId, l.secretHash, l.createdAt],
  );
}

/**
 * Outside any tenant: the manage_links_by_id policy lets a transaction that sets
 * app.manage_link_id read exactly that row (like invitations_by_id).
 */
export async function findManageLinkById(tx: Queryable, id: string): Promise<ManageLinkRecord | null> {
  await tx.query(`SELECT set_config('app.manage_link_id', $1, true)`, [id]);
  const res = await tx.query<ManageLinkRecord>(`SELECT ${COLUMNS} FROM manage_links WHERE id = $1`, [id]);
  await tx.query(`SELECT set_config('app.manage_link_id', '', true)`);
  return res.rows[0] ?? null;
}

/** Consumes the link once: of two concurrent mutations through one link, one wins. */
export async function consumeManageLink(tx: Queryable, tenantId: string, id: string, now: Date): Promise<boolean> {
  const res = await tx.query(`UPDATE manage_links SET used_at = $3 WHERE tenant_id = $1 AND id = $2 AND used_at IS NULL`, [tenantId, id, now]);
  return res.rowCount > 0;
}

/** The public face of the link's tenant (inside withTenant, so tenants_scope lets it through). */
export async function findTenantFace(tx: Queryable, tenantId: string): Promise<{ name: string; slug: string }> {
  const res = await tx.query<{ name: string; slug: string }>(`SELECT name, slug FROM tenants WHERE id = $1`, [tenantId]);
  return res.rows[0] ?? { name: '', slug: '' };
}
