import type { Queryable } from '../db/index.js';
import type { ChallengePurpose } from './passkeys.core.js';

export interface PasskeyRecord {
  id: string;
  userId: string;
  credentialId: string;
  publicKey: Uint8Array<ArrayBuffer>;
  signCount: number;
  transports: string[];
  deviceType: string;
  backedUp: boolean;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
}

const COLUMNS = `id, user_id AS "userId", credential_id AS "credentialId", public_key AS "publicKey", sign_count AS "signCount",
  transports, device_type AS "deviceType", backed_up AS "backedUp", name, created_at AS "createdAt", last_used_at AS "lastUsedAt"`;

type Row = Omit<PasskeyRecord, 'signCount'> & { signCount: string | number };

function toRecord(row: Row): PasskeyRecord {
  return { ...row, signCount: Number(row.signCount), publicKey: new Uint8Array(row.publicKey) };
}

export async function listPasskeys(db: Queryable, userId: string): Promise<PasskeyRecord[]> {
  const res = await db.query<Row>(`SELECT ${COLUMNS} FROM passkeys WHERE user_id = $1 ORDER BY created_at, id`, [userId]);
  return res.rows.map(toRecord);
}

export async function findByCredentialId(db: Queryable, credentialId: string): Promise<PasskeyRecord | null> {
  const res = await db.query<Row>(`SELECT ${COLUMNS} FROM passkeys WHERE credential_id = $1`, [credentialId]);
  const row = res.rows[0];
  return row ? toRecord(row) : null;
}

export async function countPasskeys(db: Queryable, userId: string): Promise<number> {
  const res = await db.query<{ n: string | number }>(`SELECT count(*) AS n FROM passkeys WHERE user_id = $1`, [userId]);
  return Number(res.rows[0]?.n ?? 0);
}

export async function insertPasskey(tx: Queryable, p: Omit<PasskeyRecord, 'lastUsedAt'>): Promise<void> {
  await tx.query(
    `INSERT INTO passkeys (id, user_id, credential_id, public_key, sign_count, transports, device_type, backed_up, name, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [p.id, p.userId, p.credentialId, Buffer.from(p.publicKey), p.signCount, p.transports, p.deviceType, p.backedUp, p.name, p.createdAt],
  );
}

/**
 * Records a use. The counter moves only forward (or stays 0 for counter-less authenticators),
 * so of two concurrent assertions carrying the same counter only one is accepted.
 */
export async function recordUse(db: Queryable, id: string, signCount: number, backedUp: boolean, at: Date): Promise<boolean> {
  const res = await db.query(
    `UPDATE passkeys SET sign_count = $2, backed_up = $3, last_used_at = $4
      WHERE id = $1 AND (sign_count < $2 OR ($2 = 0 AND sign_count = 0))`,
    [id, signCount, backedUp, at],
  );
  return res.rowCount > 0;
}

export async function deletePasskey(tx: Queryable, userId: string, id: string): Promise<boolean> {
  const res = await tx.query(`DELETE FROM passkeys WHERE id = $1 AND user_id = $2`, [id, userId]);
  return res.rowCount > 0;
}

/**
 * The user's stored password hash, read under a row lock so that a concurrent removal of
 * another passkey cannot leave the account without a way in. Null if the user is gone.
 */
export async function lockUserPasswordHash(tx: Queryable, userId: string): Promise<{ passwordHash: string } | null> {
  const res = await tx.query<{ passwordHash: string }>(`SELECT password_hash AS "passwordHash" FROM users WHERE id = $1 FOR UPDATE`, [userId]);
  return res.rows[0] ?? null;
}

export async function insertChallenge(
  db: Queryable,
  c: { id: string; purpose: ChallengePurpose; userId: string | null; challengeHash: Buffer; createdAt: Date; expiresAt: Date },
): Promise<void> {
  await db.query(
    `INSERT INTO webauthn_challenges (id, purpose, user_id, challenge_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
    [c.id, c.purpose, c.userId, c.challengeHash, c.createdAt, c.expiresAt],
  );
}

/**
 * Uses a challenge once: it must exist, serve `purpose`, belong to `userId` (null: to nobody,
 * a usernameless sign-in) and not be used or expired. One statement, so a replayed response
 * racing the first one loses.
 */
export async function consumeChallenge(db: Queryable, challengeHash: Buffer, purpose: ChallengePurpose, userId: string | null, at: Date): Promise<boolean> {
  const res = await db.query(
    `UPDATE webauthn_challenges SET used_at = $4
      WHERE challenge_hash = $1 AND purpose = $2 AND user_id IS NOT DISTINCT FROM $3::uuid AND used_at IS NULL AND expires_at > $4`,
    [challengeHash, purpose, userId, at],
  );
  return res.rowCount > 0;
}

/** Bounded clean-up of expired challenges, run as new ones are issued. */
export async function deleteExpiredChallenges(db: Queryable, before: Date, limit = 100): Promise<void> {
  await db.query(
    `DELETE FROM webauthn_challenges WHERE id IN (SELECT id FROM webauthn_challenges WHERE expires_at < $1 LIMIT $2)`,
    [before, limit],
  );
}
