import type { Queryable } from '../db/index.js';

export interface EmailChangeRecord {
  id: string;
  userId: string;
  oldEmailNormalized: string;
  newEmail: string;
  newEmailNormalized: string;
  secretHash: Buffer;
  expiresAt: Date;
  usedAt: Date | null;
}

export async function updateName(db: Queryable, userId: string, name: string): Promise<boolean> {
  const res = await db.query(`UPDATE users SET name = $2, updated_at = now() WHERE id = $1 AND deleted_at IS NULL`, [userId, name]);
  return res.rowCount > 0;
}

/** Stores a pending change; one live link per user, so a new request supersedes the previous one. */
export async function insertEmailChange(
  tx: Queryable,
  c: { id: string; userId: string; oldEmailNormalized: string; newEmail: string; newEmailNormalized: string; secretHash: Buffer; createdAt: Date; expiresAt: Date },
): Promise<void> {
  await tx.query(`UPDATE email_changes SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL`, [c.userId, c.createdAt]);
  await tx.query(
    `INSERT INTO email_changes (id, user_id, old_email_normalized, new_email, new_email_normalized, secret_hash, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [c.id, c.userId, c.oldEmailNormalized, c.newEmail, c.newEmailNormalized, c.secretHash, c.createdAt, c.expiresAt],
  );
}

export async function findEmailChange(db: Queryable, id: string): Promise<EmailChangeRecord | null> {
  const res = await db.query<EmailChangeRecord>(
    `SELECT id, user_id AS "userId", old_email_normalized AS "oldEmailNormalized", new_email AS "newEmail",
            new_email_normalized AS "newEmailNormalized", secret_hash AS "secretHash", expires_at AS "expiresAt", used_at AS "usedAt"
       FROM email_changes WHERE id = $1`,
    [id],
  );
  const row = res.rows[0];
  // PGlite returns bytea as Uint8Array, node-postgres as Buffer.
  return row ? { ...row, secretHash: Buffer.from(row.secretHash) } : null;
}

/** Single use: only the first caller gets true, even when two confirmations race. */
export async function useEmailChange(tx: Queryable, id: string, at: Date): Promise<boolean> {
  const res = await tx.query(`UPDATE email_changes SET used_at = $2 WHERE id = $1 AND used_at IS NULL AND expires_at > $2`, [id, at]);
  return res.rowCount > 0;
}

/**
 * The swap itself: only while the account still has the address the change was requested from.
 * The unique index on `email_normalized` refuses an address taken meanwhile (SQLSTATE 23505),
 * which rolls the whole transaction back. The link reached the new address, so it is verified.
 */
export async function swapEmail(tx: Queryable, userId: string, fromNormalized: string, to: { email: string; normalized: string }, at: Date): Promise<boolean> {
  const res = await tx.query(
    `UPDATE users SET email = $3, email_normalized = $4, email_verified_at = $5, updated_at = now()
      WHERE id = $1 AND email_normalized = $2 AND deleted_at IS NULL AND disabled_at IS NULL`,
    [userId, fromNormalized, to.email, to.normalized, at],
  );
  return res.rowCount > 0;
}

/** Locks the user row for the deletion transaction; null when it is gone or already deleted. */
export async function lockLiveUser(tx: Queryable, userId: string): Promise<{ isSuperadmin: boolean } | null> {
  const res = await tx.query<{ isSuperadmin: boolean }>(
    `SELECT is_superadmin AS "isSuperadmin" FROM users WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`,
    [userId],
  );
  return res.rows[0] ?? null;
}

/** Active superadmins, locked, so two concurrent removals cannot both pass a "not the last one" check. */
export async function lockActiveSuperadmins(tx: Queryable): Promise<string[]> {
  const res = await tx.query<{ id: string }>(
    `SELECT id FROM users WHERE is_superadmin AND disabled_at IS NULL AND deleted_at IS NULL ORDER BY id FOR UPDATE`,
  );
  return res.rows.map((r) => r.id);
}

/** The user's own memberships (the `app.user_id` scope of the memberships policy), with slugs. */
export async function listOwnMemberships(tx: Queryable, userId: string): Promise<Array<{ tenantId: string; slug: string; role: string }>> {
  const res = await tx.query<{ tenantId: string; slug: string; role: string }>(
    `SELECT m.tenant_id AS "tenantId", t.slug, m.role FROM memberships m JOIN tenants t ON t.id = m.tenant_id
      WHERE m.user_id = $1 ORDER BY t.slug`,
    [userId],
  );
  return res.rows;
}

/**
 * Switches the transaction's tenant scope (RLS `app.tenant_id`) to look at one tenant's owner
 * rows, then back. Transaction-local, like the scope sent with BEGIN.
 */
export async function setTenantScope(tx: Queryable, tenantId: string | null): Promise<void> {
  await tx.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenantId ?? '']);
}

/**
 * Anonymises the account in place (ADR 0021): the row stays (audit rows and reservations name
 * its id), but nothing in it identifies the person any more. The email becomes a tombstone that
 * is unique by construction and can never receive mail (`.invalid`, RFC 2606); the password
 * hash becomes a value argon2 cannot parse, so no password ever verifies.
 */
export async function anonymiseUser(tx: Queryable, userId: string, at: Date): Promise<void> {
  const tombstone = `deleted-${userId}@deleted.invalid`;
  await tx.query(
    `UPDATE users SET email = $2, email_normalized = $2, name = 'Deleted user', password_hash = '!deleted',
            is_superadmin = false, email_verified_at = NULL, disabled_at = NULL, disabled_reason = NULL,
            deleted_at = $3, updated_at = now()
      WHERE id = $1`,
    [userId, tombstone, at],
  );
}

/**
 * Every credential, second factor and pending one-time secret of the user: MFA, resets,
 * verification and change links, passkeys and their challenges (migration 011), OIDC identities,
 * login codes and the placeholder password (migration 010). Platform tables, no RLS.
 */
export async function deleteUserSecrets(tx: Queryable, userId: string): Promise<void> {
  for (const table of [
    'user_mfa', 'mfa_backup_codes', 'mfa_challenges', 'password_resets', 'email_verifications', 'email_changes',
    'passkeys', 'webauthn_challenges', 'oidc_identities', 'oidc_login_codes', 'oidc_placeholder_passwords',
  ]) {
    await tx.query(`DELETE FROM ${table} WHERE user_id = $1`, [userId]);
  }
}

/** Removes every membership of the user (allowed by the `app.user_id` scope); returns the tenant ids. */
export async function deleteOwnMemberships(tx: Queryable, userId: string): Promise<string[]> {
  const res = await tx.query<{ tenantId: string }>(`DELETE FROM memberships WHERE user_id = $1 RETURNING tenant_id AS "tenantId"`, [userId]);
  return res.rows.map((r) => r.tenantId);
}
