import type { TenantRole } from '../access/index.js';
import { normalizeEmail } from '../auth/users.repo.js';
import type { Queryable } from '../db/index.js';

export interface InvitationRecord {
  id: string;
  tenantId: string;
  email: string;
  role: TenantRole;
  tokenHash: Buffer;
  createdAt: Date;
  expiresAt: Date;
  acceptedAt: Date | null;
  revokedAt: Date | null;
  /** Null when the inviting account was deleted. */
  invitedBy: string | null;
}

const COLUMNS = `id, tenant_id AS "tenantId", email, role, token_hash AS "tokenHash", created_at AS "createdAt",
  expires_at AS "expiresAt", accepted_at AS "acceptedAt", revoked_at AS "revokedAt", invited_by AS "invitedBy"`;

export async function insertInvitation(
  tx: Queryable,
  tenantId: string,
  i: { id: string; email: string; role: TenantRole; tokenHash: Buffer; invitedBy: string | null; createdAt: Date; expiresAt: Date },
): Promise<InvitationRecord> {
  const res = await tx.query<InvitationRecord>(
    `INSERT INTO invitations (id, tenant_id, email, email_normalized, role, token_hash, invited_by, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${COLUMNS}`,
    [i.id, tenantId, i.email.trim(), normalizeEmail(i.email), i.role, i.tokenHash, i.invitedBy, i.createdAt, i.expiresAt],
  );
  return res.rows[0]!;
}

/** A newer invitation replaces older pending ones for the same address. */
export async function revokePendingFor(tx: Queryable, tenantId: string, email: string, now: Date): Promise<void> {
  await tx.query(
    `UPDATE invitations SET revoked_at = $3
      WHERE tenant_id = $1 AND email_normalized = $2 AND accepted_at IS NULL AND revoked_at IS NULL`,
    [tenantId, normalizeEmail(email), now],
  );
}

export async function listPending(
  tx: Queryable,
  tenantId: string,
  page: { after: string | null; limit: number; now: Date },
): Promise<InvitationRecord[]> {
  const res = await tx.query<InvitationRecord>(
    `SELECT ${COLUMNS} FROM invitations
      WHERE tenant_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $4
        AND ($2::uuid IS NULL OR id > $2::uuid)
      ORDER BY id LIMIT $3`,
    [tenantId, page.after, page.limit, page.now],
  );
  return res.rows;
}

export async function revokeInvitation(tx: Queryable, tenantId: string, id: string, now: Date): Promise<boolean> {
  const res = await tx.query(
    `UPDATE invitations SET revoked_at = $3 WHERE tenant_id = $1 AND id = $2 AND accepted_at IS NULL AND revoked_at IS NULL`,
    [tenantId, id, now],
  );
  return res.rowCount > 0;
}

/** Reads one invitation by id outside any tenant (the invitations_by_id policy). */
export async function findInvitationById(tx: Queryable, id: string): Promise<InvitationRecord | null> {
  await tx.query(`SELECT set_config('app.invitation_id', $1, true)`, [id]);
  const res = await tx.query<InvitationRecord>(`SELECT ${COLUMNS} FROM invitations WHERE id = $1`, [id]);
  await tx.query(`SELECT set_config('app.invitation_id', '', true)`);
  return res.rows[0] ?? null;
}

/** Marks the invitation used; false when another request used (or revoked) it first. Single use. */
export async function markAccepted(tx: Queryable, tenantId: string, id: string, userId: string, now: Date): Promise<boolean> {
  const res = await tx.query(
    `UPDATE invitations SET accepted_at = $4, accepted_by = $3
      WHERE tenant_id = $1 AND id = $2 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $4`,
    [tenantId, id, userId, now],
  );
  return res.rowCount > 0;
}

/**
 * Revokes the pending invitations `inviterId` sent in this tenant whose role is not in
 * `stillGrantable` (all of them when it is empty): an invitation carries its inviter's
 * authority, which ends when their role drops or they leave. Returns the revoked ids.
 */
export async function revokePendingByInviter(
  tx: Queryable,
  tenantId: string,
  inviterId: string,
  stillGrantable: readonly TenantRole[],
  now: Date,
): Promise<string[]> {
  const res = await tx.query<{ id: string }>(
    `UPDATE invitations SET revoked_at = $4
      WHERE tenant_id = $1 AND invited_by = $2 AND accepted_at IS NULL AND revoked_at IS NULL
        AND NOT (role = ANY($3::text[]))
      RETURNING id`,
    [tenantId, inviterId, [...stillGrantable], now],
  );
  return res.rows.map((r) => r.id);
}
