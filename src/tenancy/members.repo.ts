import type { Queryable } from '../db/index.js';
import type { TenantRole } from '../access/index.js';

export interface MemberRecord {
  userId: string;
  email: string;
  name: string;
  role: TenantRole;
}

export async function findMemberRole(tx: Queryable, tenantId: string, userId: string): Promise<TenantRole | null> {
  const res = await tx.query<{ role: TenantRole }>(
    `SELECT role FROM memberships WHERE tenant_id = $1 AND user_id = $2`,
    [tenantId, userId],
  );
  return res.rows[0]?.role ?? null;
}

/**
 * The role the pipeline acts on: none while the account is disabled or deleted (migration 009),
 * so an API key acting with its creator's role stops with its creator (ADR 0021, fail closed).
 */
export async function findActiveMemberRole(tx: Queryable, tenantId: string, userId: string): Promise<TenantRole | null> {
  const res = await tx.query<{ role: TenantRole }>(
    `SELECT m.role FROM memberships m JOIN users u ON u.id = m.user_id
      WHERE m.tenant_id = $1 AND m.user_id = $2 AND u.disabled_at IS NULL AND u.deleted_at IS NULL`,
    [tenantId, userId],
  );
  return res.rows[0]?.role ?? null;
}

export async function insertMember(tx: Queryable, tenantId: string, userId: string, role: TenantRole): Promise<void> {
  await tx.query(`INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, $3)`, [tenantId, userId, role]);
}

/** Concurrent first public bookings both try to join: the loser finds the membership there. */
export async function insertMemberIfAbsent(tx: Queryable, tenantId: string, userId: string, role: TenantRole): Promise<boolean> {
  const res = await tx.query(`INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [tenantId, userId, role]);
  return res.rowCount > 0;
}

export async function updateMemberRole(tx: Queryable, tenantId: string, userId: string, role: TenantRole): Promise<void> {
  await tx.query(`UPDATE memberships SET role = $3 WHERE tenant_id = $1 AND user_id = $2`, [tenantId, userId, role]);
}

export async function deleteMember(tx: Queryable, tenantId: string, userId: string): Promise<void> {
  await tx.query(`DELETE FROM memberships WHERE tenant_id = $1 AND user_id = $2`, [tenantId, userId]);
}

/** Locks the tenant's owner rows so two concurrent demotions cannot both pass the last-owner check. */
export async function countOwnersForUpdate(tx: Queryable, tenantId: string): Promise<number> {
  const res = await tx.query<{ user_id: string }>(
    `SELECT user_id FROM memberships WHERE tenant_id = $1 AND role = 'owner' FOR UPDATE`,
    [tenantId],
  );
  return res.rows.length;
}

/** Keyset page ordered by user id; synthetic (probe) users never appear. */
export async function listMembers(
  tx: Queryable,
  tenantId: string,
  page: { after: string | null; limit: number },
): Promise<MemberRecord[]> {
  const res = await tx.query<MemberRecord>(
    `SELECT m.user_id AS "userId", u.email, u.name, m.role
       FROM memberships m JOIN users u ON u.id = m.user_id
      WHERE m.tenant_id = $1 AND NOT u.synthetic AND ($2::uuid IS NULL OR m.user_id > $2::uuid)
      ORDER BY m.user_id LIMIT $3`,
    [tenantId, page.after, page.limit],
  );
  return res.rows;
}

export async function findMember(tx: Queryable, tenantId: string, userId: string): Promise<MemberRecord | null> {
  const res = await tx.query<MemberRecord>(
    `SELECT m.user_id AS "userId", u.email, u.name, m.role
       FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.tenant_id = $1 AND m.user_id = $2`,
    [tenantId, userId],
  );
  return res.rows[0] ?? null;
}

/** The role of the member with this email in the tenant, or null. */
export async function findMemberRoleByEmail(tx: Queryable, tenantId: string, emailNormalized: string): Promise<TenantRole | null> {
  const res = await tx.query<{ role: TenantRole }>(
    `SELECT m.role FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.tenant_id = $1 AND u.email_normalized = $2`,
    [tenantId, emailNormalized],
  );
  return res.rows[0]?.role ?? null;
}
