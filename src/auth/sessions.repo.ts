import type { Queryable } from '../db/index.js';

export interface SessionRecord {
  id: string;
  userId: string;
  isSuperadmin: boolean;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  ip: string | null;
  userAgent: string | null;
  /** RFC 8176 authentication methods of this session: `pwd`, plus `otp` once a second factor was proved. */
  amr: string[];
  /** The account is disabled or deleted (migration 009): every session of it is dead. */
  userBlocked: boolean;
}

const SESSION_COLUMNS = `s.id, s.user_id AS "userId", u.is_superadmin AS "isSuperadmin", s.created_at AS "createdAt",
  s.last_seen_at AS "lastSeenAt", s.expires_at AS "expiresAt", s.revoked_at AS "revokedAt",
  s.ip, s.user_agent AS "userAgent", s.amr, (u.disabled_at IS NOT NULL OR u.deleted_at IS NOT NULL) AS "userBlocked"`;

/**
 * Locks the account row (shared) for a new session: a concurrent disable or deletion waits or
 * is seen. False when the account is disabled, deleted or gone (ADR 0021).
 */
export async function lockLiveAccount(tx: Queryable, userId: string): Promise<boolean> {
  const res = await tx.query<{ live: boolean }>(
    `SELECT (disabled_at IS NULL AND deleted_at IS NULL) AS live FROM users WHERE id = $1 FOR SHARE`,
    [userId],
  );
  return res.rows[0]?.live === true;
}

export async function insertSession(
  db: Queryable,
  s: { id: string; userId: string; createdAt: Date; expiresAt: Date; ip: string | null; userAgent: string | null; amr: readonly string[] },
): Promise<void> {
  await db.query(
    `INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at, ip, user_agent, amr)
     VALUES ($1, $2, $3, $3, $4, $5, $6, $7::text[])`,
    [s.id, s.userId, s.createdAt, s.expiresAt, s.ip, s.userAgent, [...s.amr]],
  );
}

/** Records that a live session proved another factor (RFC 8176 value); false when it is gone. */
export async function addSessionAmr(db: Queryable, id: string, userId: string, method: string): Promise<boolean> {
  const res = await db.query(
    `UPDATE sessions SET amr = array_append(amr, $3::text)
      WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL AND NOT ($3::text = ANY(amr))`,
    [id, userId, method],
  );
  return res.rowCount > 0;
}

export async function findSession(db: Queryable, id: string): Promise<SessionRecord | null> {
  const res = await db.query<SessionRecord>(
    `SELECT ${SESSION_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1`,
    [id],
  );
  return res.rows[0] ?? null;
}

/** Live sessions of a user: not revoked, not past their absolute or idle expiry. */
export async function listLiveSessions(db: Queryable, userId: string, now: Date, idleSeconds: number): Promise<SessionRecord[]> {
  const res = await db.query<SessionRecord>(
    `SELECT ${SESSION_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id
      WHERE s.user_id = $1 AND s.revoked_at IS NULL AND s.expires_at > $2
        AND s.last_seen_at > $2 - make_interval(secs => $3)
      ORDER BY s.created_at DESC LIMIT 100`,
    [userId, now, idleSeconds],
  );
  return res.rows;
}

/** Marks a session revoked; returns its user id, or null when it was already revoked or does not exist. */
export async function revokeSession(db: Queryable, id: string, reason: string, now: Date): Promise<string | null> {
  const res = await db.query<{ userId: string }>(
    `UPDATE sessions SET revoked_at = $2, revoked_reason = $3 WHERE id = $1 AND revoked_at IS NULL RETURNING user_id AS "userId"`,
    [id, now, reason],
  );
  return res.rows[0]?.userId ?? null;
}

/** Revokes all live sessions of a user except `exceptId`; returns the revoked ids. */
export async function revokeUserSessions(
  db: Queryable,
  userId: string,
  reason: string,
  now: Date,
  exceptId: string | null,
): Promise<string[]> {
  const res = await db.query<{ id: string }>(
    `UPDATE sessions SET revoked_at = $2, revoked_reason = $3
      WHERE user_id = $1 AND revoked_at IS NULL AND ($4::uuid IS NULL OR id <> $4::uuid) RETURNING id`,
    [userId, now, reason, exceptId],
  );
  return res.rows.map((r) => r.id);
}

export async function touchSession(db: Queryable, id: string, at: Date): Promise<void> {
  await db.query(`UPDATE sessions SET last_seen_at = $2 WHERE id = $1 AND last_seen_at < $2`, [id, at]);
}

/** Rows per statement when last-seen values are written in a batch. */
const TOUCH_BATCH_ROWS = 500;

/**
 * Last-seen values of many sessions (ms since the epoch), one statement per 500. A row another
 * transaction holds locked (its revocation, another instance's batch) is skipped rather than
 * waited for: the batch never waits on a lock, so it can neither stall behind a revocation nor
 * deadlock with another instance's batch that locks the same rows in another order. A skipped
 * value is advisory (the next use records a fresh one, a quarter of the idle timeout later).
 */
export async function touchSessions(db: Queryable, lastSeen: ReadonlyMap<string, number>): Promise<void> {
  const entries = [...lastSeen];
  for (let i = 0; i < entries.length; i += TOUCH_BATCH_ROWS) {
    const chunk = entries.slice(i, i + TOUCH_BATCH_ROWS);
    await db.query(
      `UPDATE sessions AS s SET last_seen_at = v.at
         FROM unnest($1::uuid[], $2::timestamptz[]) AS v(id, at)
        WHERE s.id = v.id AND s.last_seen_at < v.at
          AND s.id IN (SELECT id FROM sessions WHERE id = ANY($1::uuid[]) FOR UPDATE SKIP LOCKED)`,
      [chunk.map(([id]) => id), chunk.map(([, at]) => new Date(at))],
    );
  }
}

export interface RefreshTokenRecord {
  id: string;
  sessionId: string;
  secretHash: Buffer;
  usedAt: Date | null;
}

export async function insertRefreshToken(
  db: Queryable,
  t: { id: string; sessionId: string; secretHash: Buffer; createdAt: Date },
): Promise<void> {
  await db.query(`INSERT INTO refresh_tokens (id, session_id, secret_hash, created_at) VALUES ($1, $2, $3, $4)`, [
    t.id,
    t.sessionId,
    t.secretHash,
    t.createdAt,
  ]);
}

export async function findRefreshToken(db: Queryable, id: string): Promise<RefreshTokenRecord | null> {
  const res = await db.query<RefreshTokenRecord>(
    `SELECT id, session_id AS "sessionId", secret_hash AS "secretHash", used_at AS "usedAt" FROM refresh_tokens WHERE id = $1`,
    [id],
  );
  const row = res.rows[0];
  if (!row) return null;
  // PGlite returns bytea as Uint8Array, node-postgres as Buffer.
  return { ...row, secretHash: Buffer.from(row.secretHash) };
}

/** Consumes a refresh token exactly once; false when it was already used (concurrently or before). */
export async function markRefreshTokenUsed(db: Queryable, id: string, now: Date): Promise<boolean> {
  const res = await db.query(`UPDATE refresh_tokens SET used_at = $2 WHERE id = $1 AND used_at IS NULL`, [id, now]);
  return res.rowCount > 0;
}
