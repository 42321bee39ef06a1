import type { Database, Queryable } from '../db/index.js';

export interface ApiKeyRecord {
  id: string;
  tenantId: string;
  name: string;
  prefix: string;
  secretHash: Buffer;
  permissions: string[];
  /** Null on keys created before migration 008 or by the previous release (ADR 0017). */
  roleCeiling: string | null;
  rateLimitPerMinute: number | null;
  previousSecretHash: Buffer | null;
  previousValidUntil: Date | null;
  rotatedAt: Date | null;
  rotatedBy: string | null;
  createdBy: string;
  createdAt: Date;
  expiresAt: Date | null;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

const COLUMNS = `id, tenant_id AS "tenantId", name, prefix, secret_hash AS "secretHash", permissions, created_by AS "createdBy",
  created_at AS "createdAt", expires_at AS "expiresAt", revoked_at AS "revokedAt", last_used_at AS "lastUsedAt",
  role_ceiling AS "roleCeiling", rate_limit_per_minute AS "rateLimitPerMinute", previous_secret_hash AS "previousSecretHash",
  previous_valid_until AS "previousValidUntil", rotated_at AS "rotatedAt", rotated_by AS "rotatedBy"`;

function toRecord(r: ApiKeyRecord): ApiKeyRecord {
  return {
    ...r,
    secretHash: Buffer.from(r.secretHash),
    previousSecretHash: r.previousSecretHash ? Buffer.from(r.previousSecretHash) : null,
  };
}

export async function insertApiKey(
  tx: Queryable,
  tenantId: string,
  k: {
    id: string;
    name: string;
    prefix: string;
    secretHash: Buffer;
    permissions: readonly string[];
    roleCeiling: string;
    rateLimitPerMinute: number | null;
    createdBy: string;
    createdAt: Date;
    expiresAt: Date | null;
  },
): Promise<ApiKeyRecord> {
  const res = await tx.query<ApiKeyRecord>(
    `INSERT INTO api_keys (id, tenant_id, name, prefix, secret_hash, permissions, role_ceiling, rate_limit_per_minute, created_by, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ${COLUMNS}`,
    [k.id, tenantId, k.name, k.prefix, k.secretHash, k.permissions, k.roleCeiling, k.rateLimitPerMinute, k.createdBy, k.createdAt, k.expiresAt],
  );
  return toRecord(res.rows[0]!);
}

/** Newest first, revoked keys included (they show `revokedAt`). */
export async function listApiKeys(tx: Queryable, tenantId: string, page: { before: string | null; limit: number }): Promise<ApiKeyRecord[]> {
  const res = await tx.query<ApiKeyRecord>(
    `SELECT ${COLUMNS} FROM api_keys WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id < $2::uuid) ORDER BY id DESC LIMIT $3`,
    [tenantId, page.before, page.limit],
  );
  return res.rows.map(toRecord);
}

export async function findApiKey(tx: Queryable, tenantId: string, id: string): Promise<ApiKeyRecord | null> {
  const res = await tx.query<ApiKeyRecord>(`SELECT ${COLUMNS} FROM api_keys WHERE tenant_id = $1 AND id = $2`, [tenantId, id]);
  return res.rows[0] ? toRecord(res.rows[0]) : null;
}

/**
 * Replaces the secret, keeping the old one valid until `previousValidUntil`. Compare-and-set on
 * the secret read by the caller: of two rotations that both read the same secret, the second
 * UPDATE (blocked on the row lock, then re-checked by PostgreSQL against the committed row)
 * matches nothing and returns null. `roleCeiling` is only written where none is stored yet
 * (a pre-008 key adopted at its first rotation).
 */
export async function rotateApiKey(
  tx: Queryable,
  tenantId: string,
  id: string,
  r: { expectedSecretHash: Buffer; secretHash: Buffer; previousValidUntil: Date; rotatedAt: Date; rotatedBy: string; roleCeiling: string },
): Promise<ApiKeyRecord | null> {
  const res = await tx.query<ApiKeyRecord>(
    `UPDATE api_keys SET previous_secret_hash = secret_hash, secret_hash = $4, previous_valid_until = $5, rotated_at = $6, rotated_by = $7,
       role_ceiling = COALESCE(role_ceiling, $8)
     WHERE tenant_id = $1 AND id = $2 AND secret_hash = $3 AND revoked_at IS NULL
       AND (previous_valid_until IS NULL OR previous_valid_until <= $6)
     RETURNING ${COLUMNS}`,
    [tenantId, id, r.expectedSecretHash, r.secretHash, r.previousValidUntil, r.rotatedAt, r.rotatedBy, r.roleCeiling],
  );
  return res.rows[0] ? toRecord(res.rows[0]) : null;
}

export async function revokeApiKey(tx: Queryable, tenantId: string, id: string, at: Date): Promise<boolean> {
  const res = await tx.query(`UPDATE api_keys SET revoked_at = $3 WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL`, [tenantId, id, at]);
  return res.rowCount > 0;
}

/**
 * Authentication-time lookup: the tenant is not known yet, so the RLS policy admits exactly the
 * row named by `app.api_key_id` for this one transaction.
 */
export function findApiKeyForAuth(db: Database, id: string): Promise<ApiKeyRecord | null> {
  return db.transaction(async (tx) => {
    await tx.query(`SELECT set_config('app.api_key_id', $1, true)`, [id]);
    const res = await tx.query<ApiKeyRecord>(`SELECT ${COLUMNS} FROM api_keys WHERE id = $1`, [id]);
    return res.rows[0] ? toRecord(res.rows[0]) : null;
  });
}

/** Batched last-use write for one tenant's keys; never moves a timestamp backwards. */
export async function touchApiKeys(tx: Queryable, tenantId: string, uses: ReadonlyArray<{ id: string; at: Date }>): Promise<void> {
  // One statement for the tenant's batch (ids are distinct: one value per key), as touchSessions.
  await tx.query(
    `UPDATE api_keys AS k SET last_used_at = GREATEST(COALESCE(k.last_used_at, v.at), v.at)
       FROM unnest($2::uuid[], $3::timestamptz[]) AS v(id, at)
      WHERE k.tenant_id = $1 AND k.id = v.id`,
    [tenantId, uses.map((u) => u.id), uses.map((u) => u.at)],
  );
}
