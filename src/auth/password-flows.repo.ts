import type { Queryable } from '../db/index.js';

export async function updatePasswordHash(tx: Queryable, userId: string, passwordHash: string): Promise<void> {
  await tx.query(`UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1`, [userId, passwordHash]);
}

export async function insertReset(tx: Queryable, r: { id: string; userId: string; secretHash: Buffer; createdAt: Date; expiresAt: Date }): Promise<void> {
  // One live token per user: a new request supersedes the previous link.
  await tx.query(`UPDATE password_resets SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL`, [r.userId, r.createdAt]);
  await tx.query(
    `INSERT INTO password_resets (id, user_id, secret_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`,
    [r.id, r.userId, r.secretHash, r.createdAt, r.expiresAt],
  );
}

export async function findReset(db: Queryable, id: string) {
  const res = await db.query<{ id: string; userId: string; secretHash: Buffer; expiresAt: Date; usedAt: Date | null }>(
    `SELECT id, user_id AS "userId", secret_hash AS "secretHash", expires_at AS "expiresAt", used_at AS "usedAt" FROM password_resets WHERE id = $1`,
    [id],
  );
  const row = res.rows[0];
  return row ? { ...row, secretHash: Buffer.from(row.secretHash) } : null;
}

/** Single use: only the first caller gets true, even when two requests race. */
export async function useReset(tx: Queryable, id: string, at: Date): Promise<boolean> {
  const res = await tx.query(`UPDATE password_resets SET used_at = $2 WHERE id = $1 AND used_at IS NULL AND expires_at > $2`, [id, at]);
  return res.rowCount > 0;
}
