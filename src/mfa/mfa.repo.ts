import type { Queryable } from '../db/index.js';

export interface MfaRecord {
  userId: string;
  secretEnc: string;
  enabledAt: Date | null;
  lastStep: number;
}

export async function findMfa(db: Queryable, userId: string): Promise<MfaRecord | null> {
  const res = await db.query<MfaRecord & { lastStep: string | number }>(
    `SELECT user_id AS "userId", secret_enc AS "secretEnc", enabled_at AS "enabledAt", last_step AS "lastStep"
       FROM user_mfa WHERE user_id = $1`,
    [userId],
  );
  const row = res.rows[0];
  return row ? { ...row, lastStep: Number(row.lastStep) } : null;
}

/** Starts (or restarts) enrolment with a new, not yet enabled secret. */
export async function upsertPendingSecret(db: Queryable, userId: string, secretEnc: string): Promise<void> {
  await db.query(
    `INSERT INTO user_mfa (user_id, secret_enc) VALUES ($1, $2)
     ON CONFLICT (user_id) DO UPDATE SET secret_enc = EXCLUDED.secret_enc, enabled_at = NULL, last_step = 0, updated_at = now()
       WHERE user_mfa.enabled_at IS NULL`,
    [userId, secretEnc],
  );
}

export async function enableMfa(tx: Queryable, userId: string, step: number, at: Date): Promise<boolean> {
  const res = await tx.query(
    `UPDATE user_mfa SET enabled_at = $3, last_step = $2, updated_at = $3 WHERE user_id = $1 AND enabled_at IS NULL`,
    [userId, step, at],
  );
  return res.rowCount > 0;
}

/**
 * Records the accepted step; succeeds only if no one accepted this or a later step meanwhile,
 * which makes the single-use rule (ASVS 2.8.4) hold under concurrent submissions too.
 */
export async function advanceStep(db: Queryable, userId: string, step: number): Promise<boolean> {
  const res = await db.query(`UPDATE user_mfa SET last_step = $2 WHERE user_id = $1 AND last_step < $2`, [userId, step]);
  return res.rowCount > 0;
}

export async function deleteMfa(tx: Queryable, userId: string): Promise<void> {
  await tx.query(`DELETE FROM mfa_backup_codes WHERE user_id = $1`, [userId]);
  await tx.query(`DELETE FROM user_mfa WHERE user_id = $1`, [userId]);
}

export async function replaceBackupCodes(tx: Queryable, userId: string, codes: ReadonlyArray<{ id: string; hash: Buffer }>): Promise<void> {
  await tx.query(`DELETE FROM mfa_backup_codes WHERE user_id = $1`, [userId]);
  for (const c of codes) {
    await tx.query(`INSERT INTO mfa_backup_codes (id, user_id, code_hash) VALUES ($1, $2, $3)`, [c.id, userId, c.hash]);
  }
}

/** Marks one unused code as used; false when no such unused code exists. */
export async function consumeBackupCode(db: Queryable, userId: string, hash: Buffer, at: Date): Promise<boolean> {
  const res = await db.query(
    `UPDATE mfa_backup_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL`,
    [userId, hash, at],
  );
  return res.rowCount > 0;
}

export async function countUnusedBackupCodes(db: Queryable, userId: string): Promise<number> {
  const res = await db.query<{ n: string | number }>(`SELECT count(*) AS n FROM mfa_backup_codes WHERE user_id = $1 AND used_at IS NULL`, [userId]);
  return Number(res.rows[0]?.n ?? 0);
}

export async function insertChallenge(
  db: Queryable,
  c: { id: string; userId: string; secretHash: Buffer; createdAt: Date; expiresAt: Date; firstFactor: string },
): Promise<void> {
  await db.query(
    `INSERT INTO mfa_challenges (id, user_id, secret_hash, created_at, expires_at, first_factor) VALUES ($1, $2, $3, $4, $5, $6)`,
    [c.id, c.userId, c.secretHash, c.createdAt, c.expiresAt, c.firstFactor],
  );
}

export async function findChallenge(db: Queryable, id: string) {
  const res = await db.query<{ id: string; userId: string; secretHash: Buffer; expiresAt: Date; usedAt: Date | null; firstFactor: string }>(
    `SELECT id, user_id AS "userId", secret_hash AS "secretHash", expires_at AS "expiresAt", used_at AS "usedAt",
            first_factor AS "firstFactor"
       FROM mfa_challenges WHERE id = $1`,
    [id],
  );
  const row = res.rows[0];
  return row ? { ...row, secretHash: Buffer.from(row.secretHash) } : null;
}

export async function useChallenge(db: Queryable, id: string, at: Date): Promise<boolean> {
  const res = await db.query(`UPDATE mfa_challenges SET used_at = $2 WHERE id = $1 AND used_at IS NULL AND expires_at > $2`, [id, at]);
  return res.rowCount > 0;
}
