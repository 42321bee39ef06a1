import type { Queryable } from '../db/index.js';

export interface UserRecord {
  id: string;
  email: string;
  name: string;
  passwordHash: string;
  isSuperadmin: boolean;
  createdAt: Date;
  /** When the owner of the address proved it (a verification or reset link); null until then. */
  emailVerifiedAt: Date | null;
  /** A superadmin disabled the account (migration 009): no login, no refresh, no live session. */
  disabledAt: Date | null;
  disabledReason: string | null;
  /** The owner deleted the account; the row is an anonymised tombstone. */
  deletedAt: Date | null;
}

const USER_COLUMNS = `id, email, name, password_hash AS "passwordHash", is_superadmin AS "isSuperadmin", created_at AS "createdAt",
  email_verified_at AS "emailVerifiedAt", disabled_at AS "disabledAt", disabled_reason AS "disabledReason", deleted_at AS "deletedAt"`;

/** Emails compare case-insensitively; stored once as typed and once normalised for uniqueness. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export async function insertUser(
  db: Queryable,
  u: { id: string; email: string; name: string; passwordHash: string; synthetic?: boolean },
): Promise<UserRecord> {
  const res = await db.query<UserRecord>(
    `INSERT INTO users (id, email, email_normalized, name, password_hash, synthetic)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${USER_COLUMNS}`,
    [u.id, u.email.trim(), normalizeEmail(u.email), u.name, u.passwordHash, u.synthetic ?? false],
  );
  return res.rows[0]!;
}

/**
 * Inserts unless the address is taken; null then. ON CONFLICT DO NOTHING never raises, so a
 * taken address costs the same one statement as a new one (enumeration-safe sign-up).
 */
export async function insertUserIfAbsent(
  db: Queryable,
  u: { id: string; email: string; name: string; passwordHash: string },
): Promise<UserRecord | null> {
  const res = await db.query<UserRecord>(
    `INSERT INTO users (id, email, email_normalized, name, password_hash)
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING ${USER_COLUMNS}`,
    [u.id, u.email.trim(), normalizeEmail(u.email), u.name, u.passwordHash],
  );
  return res.rows[0] ?? null;
}

/** Marks the address verified if it still is `emailNormalized`; true when this call verified it. */
export async function markEmailVerified(db: Queryable, userId: string, emailNormalized: string, at: Date): Promise<boolean> {
  const res = await db.query(
    `UPDATE users SET email_verified_at = $3, updated_at = now()
     WHERE id = $1 AND email_normalized = $2 AND email_verified_at IS NULL`,
    [userId, emailNormalized, at],
  );
  return res.rowCount > 0;
}

export async function findUserByEmail(db: Queryable, email: string): Promise<UserRecord | null> {
  const res = await db.query<UserRecord>(`SELECT ${USER_COLUMNS} FROM users WHERE email_normalized = $1`, [
    normalizeEmail(email),
  ]);
  return res.rows[0] ?? null;
}

export async function findUserById(db: Queryable, id: string): Promise<UserRecord | null> {
  const res = await db.query<UserRecord>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id]);
  return res.rows[0] ?? null;
}

export async function setSuperadmin(db: Queryable, id: string, value: boolean): Promise<void> {
  await db.query(`UPDATE users SET is_superadmin = $2, updated_at = now() WHERE id = $1`, [id, value]);
}
