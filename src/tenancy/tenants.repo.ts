import type { Queryable } from '../db/index.js';
import type { TenantRole } from '../access/index.js';

export interface TenantRecord {
  id: string;
  name: string;
  slug: string;
  createdAt: Date;
}

const TENANT_COLUMNS = `id, name, slug, created_at AS "createdAt"`;

export async function insertTenant(tx: Queryable, t: { id: string; name: string; slug: string; synthetic?: boolean }): Promise<TenantRecord> {
  const res = await tx.query<TenantRecord>(
    `INSERT INTO tenants (id, name, slug, synthetic) VALUES ($1, $2, $3, $4) RETURNING ${TENANT_COLUMNS}`,
    [t.id, t.name, t.slug, t.synthetic ?? false],
  );
  return res.rows[0]!;
}

export async function findTenant(tx: Queryable, tenantId: string): Promise<TenantRecord | null> {
  const res = await tx.query<TenantRecord>(`SELECT ${TENANT_COLUMNS} FROM tenants WHERE id = $1`, [tenantId]);
  return res.rows[0] ?? null;
}

export interface UserMembership {
  tenantId: string;
  tenantSlug: string;
  role: TenantRole;
}

/** A user's memberships across tenants (runs under withUser). Synthetic tenants are hidden. */
export async function listUserMemberships(tx: Queryable, userId: string): Promise<UserMembership[]> {
  const res = await tx.query<UserMembership>(
    `SELECT m.tenant_id AS "tenantId", t.slug AS "tenantSlug", m.role
       FROM memberships m JOIN tenants t ON t.id = m.tenant_id
      WHERE m.user_id = $1 AND NOT t.synthetic ORDER BY t.slug`,
    [userId],
  );
  return res.rows;
}
