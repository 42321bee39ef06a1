import type { Queryable } from '../db/index.js';

export type UserStatus = 'active' | 'disabled' | 'deleted';

export interface AdminUserRecord {
  id: string;
  email: string;
  name: string;
  isSuperadmin: boolean;
  emailVerified: boolean;
  createdAt: Date;
  disabledAt: Date | null;
  disabledReason: string | null;
  deletedAt: Date | null;
}

const COLUMNS = `id, email, name, is_superadmin AS "isSuperadmin", email_verified_at IS NOT NULL AS "emailVerified",
  created_at AS "createdAt", disabled_at AS "disabledAt", disabled_reason AS "disabledReason", deleted_at AS "deletedAt"`;

const STATUS_SQL: Record<UserStatus, string> = {
  active: 'disabled_at IS NULL AND deleted_at IS NULL',
  disabled: 'disabled_at IS NOT NULL AND deleted_at IS NULL',
  deleted: 'deleted_at IS NOT NULL',
};

/** `%`, `_` and `\` in a prefix are literal characters, not patterns. */
function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Keyset page ordered by id; synthetic (probe) accounts never appear. */
export async function listUsers(
  db: Queryable,
  q: { after: string | null; limit: number; emailPrefixNormalized: string | null; status: UserStatus | null },
): Promise<AdminUserRecord[]> {
  const res = await db.query<AdminUserRecord>(
    `SELECT ${COLUMNS} FROM users
      WHERE NOT synthetic AND ($1::uuid IS NULL OR id > $1::uuid)
        AND ($2::text IS NULL OR email_normalized LIKE $2::text ESCAPE '\\')
        ${q.status ? `AND ${STATUS_SQL[q.status]}` : ''}
      ORDER BY id LIMIT $3`,
    [q.after, q.emailPrefixNormalized === null ? null : likePrefix(q.emailPrefixNormalized), q.limit],
  );
  return res.rows;
}

export async function findUserForAdmin(db: Queryable, id: string, lock = false): Promise<AdminUserRecord | null> {
  const res = await db.query<AdminUserRecord>(
    `SELECT ${COLUMNS} FROM users WHERE id = $1 AND NOT synthetic${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return res.rows[0] ?? null;
}

export async function setDisabled(db: Queryable, id: string, at: Date | null, reason: string | null): Promise<void> {
  await db.query(`UPDATE users SET disabled_at = $2, disabled_reason = $3, updated_at = now() WHERE id = $1`, [id, at, reason]);
}
