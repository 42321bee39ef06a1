import type { Queryable } from '../db/index.js';

export interface VerificationRecord {
  id: string;
  userId: string;
  emailNormalized: string;
  secretHash: Buffer;
  expiresAt: Date;
  usedAt: Date | null;
}

export async function insertVerification(
  tx: Queryable,
  v: { id: string; userId: string; emailNormalized: string; secretHash: Buffer; createdAt: Date; expiresAt: Date },
): Promise<void> {
  // One live link per user: a re-send supersedes the previous one.
  await tx.query(`UPDATE email_verifications SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL`, [v.userId, v.createdAt]);
  await tx.query(
    `INSERT INTO email_verifications (id, user_id, email_normalized, secret_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
    [v.id, v.userId, v.emailNormalized, v.secretHash, v.createdAt, v.expiresAt],
  );
}

export async function findVerification(db: Queryable, id: string): Promise<VerificationRecord | null> {
  const res = await db.query<VerificationRecord>(
    `SELECT id, user_id AS "userId", email_normalized AS "emailNormalized", secret_hash AS "secretHash",
            expires_at AS "expiresAt", used_at AS "usedAt"
     FROM email_verifications WHERE id = $1`,
    [id],
  );
  const row = res.rows[0];
  return row ? { ...row, secretHash: Buffer.from(row.secretHash) } : null;
}

/** Single use: only the first caller gets true, even when two requests race. */
export async function useVerification(tx: Queryable, id: string, at: Date): Promise<boolean> {
  const res = await tx.query(`UPDATE email_verifications SET used_at = $2 WHERE id = $1 AND used_at IS NULL AND expires_at > $2`, [id, at]);
  return res.rowCount > 0;
}
