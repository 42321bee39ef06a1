import type { Queryable } from '../db/index.js';

export interface IdentityRecord {
  id: string;
  userId: string;
  providerId: string;
  subject: string;
  email: string | null;
  createdAt: Date;
  lastLoginAt: Date | null;
}

const IDENTITY_COLUMNS = `id, user_id AS "userId", provider_id AS "providerId", subject, email, created_at AS "createdAt",
  last_login_at AS "lastLoginAt"`;

export async function findIdentity(db: Queryable, providerId: string, subject: string): Promise<IdentityRecord | null> {
  const res = await db.query<IdentityRecord>(`SELECT ${IDENTITY_COLUMNS} FROM oidc_identities WHERE provider_id = $1 AND subject = $2`, [providerId, subject]);
  return res.rows[0] ?? null;
}

export async function listIdentities(db: Queryable, userId: string): Promise<IdentityRecord[]> {
  const res = await db.query<IdentityRecord>(`SELECT ${IDENTITY_COLUMNS} FROM oidc_identities WHERE user_id = $1 ORDER BY created_at, id`, [userId]);
  return res.rows;
}

export async function insertIdentity(
  tx: Queryable,
  i: { id: string; userId: string; providerId: string; subject: string; email: string | null; at: Date },
): Promise<void> {
  await tx.query(
    `INSERT INTO oidc_identities (id, user_id, provider_id, subject, email, created_at, last_login_at) VALUES ($1, $2, $3, $4, $5, $6, $6)`,
    [i.id, i.userId, i.providerId, i.subject, i.email, i.at],
  );
}

export async function touchIdentity(tx: Queryable, id: string, at: Date): Promise<void> {
  await tx.query(`UPDATE oidc_identities SET last_login_at = $2 WHERE id = $1`, [id, at]);
}

/** Deletes the user's identity; false when it is not theirs or already gone. */
export async function deleteIdentity(tx: Queryable, userId: string, id: string): Promise<boolean> {
  const res = await tx.query(`DELETE FROM oidc_identities WHERE id = $1 AND user_id = $2`, [id, userId]);
  return res.rowCount > 0;
}

export async function insertPlaceholderPassword(tx: Queryable, userId: string, passwordHash: string): Promise<void> {
  await tx.query(`INSERT INTO oidc_placeholder_passwords (user_id, password_hash) VALUES ($1, $2)`, [userId, passwordHash]);
}

/** A user created by a sign-in: verified address (the provider asserted it), placeholder password. */
export async function insertVerifiedUser(
  tx: Queryable,
  u: { id: string; email: string; emailNormalized: string; name: string; passwordHash: string; at: Date },
): Promise<void> {
  await tx.query(
    `INSERT INTO users (id, email, email_normalized, name, password_hash, email_verified_at) VALUES ($1, $2, $3, $4, $5, $6)`,
    [u.id, u.email, u.emailNormalized, u.name, u.passwordHash, u.at],
  );
}

export interface FlowRecord {
  id: string;
  providerId: string;
  stateHash: Buffer;
  bindingHash: Buffer;
  secretsEnc: string;
  expiresAt: Date;
  usedAt: Date | null;
}

export async function insertFlow(
  db: Queryable,
  f: { id: string; providerId: string; stateHash: Buffer; bindingHash: Buffer; secretsEnc: string; createdAt: Date; expiresAt: Date },
): Promise<void> {
  await db.query(
    `INSERT INTO oidc_flows (id, provider_id, state_hash, binding_hash, secrets_enc, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [f.id, f.providerId, f.stateHash, f.bindingHash, f.secretsEnc, f.createdAt, f.expiresAt],
  );
}

export async function findFlow(db: Queryable, id: string): Promise<FlowRecord | null> {
  const res = await db.query<FlowRecord>(
    `SELECT id, provider_id AS "providerId", state_hash AS "stateHash", binding_hash AS "bindingHash", secrets_enc AS "secretsEnc",
            expires_at AS "expiresAt", used_at AS "usedAt"
     FROM oidc_flows WHERE id = $1`,
    [id],
  );
  const row = res.rows[0];
  return row ? { ...row, stateHash: Buffer.from(row.stateHash), bindingHash: Buffer.from(row.bindingHash) } : null;
}

/** Single use: only the first caller gets true, even when two callbacks race. */
export async function useFlow(db: Queryable, id: string, at: Date): Promise<boolean> {
  const res = await db.query(`UPDATE oidc_flows SET used_at = $2 WHERE id = $1 AND used_at IS NULL AND expires_at > $2`, [id, at]);
  return res.rowCount > 0;
}

/** Flows nobody finished: bounded table growth; called on each start. */
export async function pruneFlows(db: Queryable, before: Date): Promise<void> {
  await db.query(`DELETE FROM oidc_flows WHERE id IN (SELECT id FROM oidc_flows WHERE expires_at < $1 LIMIT 100)`, [before]);
}

export interface LoginCodeRecord {
  id: string;
  userId: string;
  providerId: string;
  secretHash: Buffer;
  expiresAt: Date;
  usedAt: Date | null;
}

export async function insertLoginCode(
  tx: Queryable,
  c: { id: string; userId: string; providerId: string; secretHash: Buffer; createdAt: Date; expiresAt: Date },
): Promise<void> {
  await tx.query(
    `INSERT INTO oidc_login_codes (id, user_id, provider_id, secret_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
    [c.id, c.userId, c.providerId, c.secretHash, c.createdAt, c.expiresAt],
  );
}

export async function findLoginCode(db: Queryable, id: string): Promise<LoginCodeRecord | null> {
  const res = await db.query<LoginCodeRecord>(
    `SELECT id, user_id AS "userId", provider_id AS "providerId", secret_hash AS "secretHash", expires_at AS "expiresAt", used_at AS "usedAt"
     FROM oidc_login_codes WHERE id = $1`,
    [id],
  );
  const row = res.rows[0];
  return row ? { ...row, secretHash: Buffer.from(row.secretHash) } : null;
}

export async function useLoginCode(db: Queryable, id: string, at: Date): Promise<boolean> {
  const res = await db.query(`UPDATE oidc_login_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL AND expires_at > $2`, [id, at]);
  return res.rowCount > 0;
}
