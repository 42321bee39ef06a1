import type { Queryable } from '../db/index.js';
import type { StoredKey } from './idempotency.core.js';

/**
 * Claims (scope, key) for this request: inserts an `in_progress` row, or takes over one that has
 * expired, or an `in_progress` one with the same fingerprint whose lease lapsed (its request
 * died). Returns false when another request holds the key. One statement: PostgreSQL makes a
 * concurrent duplicate wait for the winner and then see its row, so exactly one claims.
 */
export async function claimKey(
  q: Queryable,
  row: { scope: string; key: string; fingerprint: Buffer; now: Date; lockedUntil: Date; expiresAt: Date },
): Promise<boolean> {
  const res = await q.query(
    `INSERT INTO idempotency_keys AS k (scope, key, fingerprint, status, locked_until, created_at, expires_at)
     VALUES ($1, $2, $3, 'in_progress', $5, $4, $6)
     ON CONFLICT (scope, key) DO UPDATE
        SET fingerprint = EXCLUDED.fingerprint, status = 'in_progress', response_status = NULL, response_body = NULL,
            locked_until = EXCLUDED.locked_until, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
      WHERE k.expires_at <= $4
         OR (k.status = 'in_progress' AND k.locked_until <= $4 AND k.fingerprint = EXCLUDED.fingerprint)
     RETURNING 1`,
    [row.scope, row.key, row.fingerprint, row.now, row.lockedUntil, row.expiresAt],
  );
  return res.rowCount > 0;
}

export async function findKey(q: Queryable, scope: string, key: string): Promise<StoredKey | null> {
  const res = await q.query<{ fingerprint: Uint8Array; status: 'in_progress' | 'completed'; responseStatus: number | null; responseBody: string | null; lockedUntil: Date; expiresAt: Date }>(
    `SELECT fingerprint, status, response_status AS "responseStatus", response_body AS "responseBody",
            locked_until AS "lockedUntil", expires_at AS "expiresAt"
       FROM idempotency_keys WHERE scope = $1 AND key = $2`,
    [scope, key],
  );
  const r = res.rows[0];
  if (!r) return null;
  return {
    fingerprint: Buffer.from(r.fingerprint),
    status: r.status,
    responseStatus: r.responseStatus,
    responseBody: r.responseBody,
    lockedUntil: new Date(r.lockedUntil).getTime(),
    expiresAt: new Date(r.expiresAt).getTime(),
  };
}

/** Stores the answer of the request that holds the claim. */
export async function completeKey(q: Queryable, k: { scope: string; key: string; fingerprint: Buffer; status: number; body: string }): Promise<void> {
  await q.query(
    `UPDATE idempotency_keys SET status = 'completed', response_status = $4, response_body = $5
      WHERE scope = $1 AND key = $2 AND fingerprint = $3 AND status = 'in_progress'`,
    [k.scope, k.key, k.fingerprint, k.status, k.body],
  );
}

/** Frees a claim whose answer is not kept (5xx, 409, 429…): the client may retry with the same key. */
export async function releaseKey(q: Queryable, k: { scope: string; key: string; fingerprint: Buffer }): Promise<void> {
  await q.query(`DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND fingerprint = $3 AND status = 'in_progress'`, [
    k.scope,
    k.key,
    k.fingerprint,
  ]);
}

/** Deletes up to `limit` expired rows (bounded work, piggy-backed on claims until the job queue exists). */
export async function purgeExpired(q: Queryable, now: Date, limit: number): Promise<number> {
  const res = await q.query(
    `DELETE FROM idempotency_keys WHERE (scope, key) IN (
       SELECT scope, key FROM idempotency_keys WHERE expires_at <= $1 LIMIT $2)`,
    [now, limit],
  );
  return res.rowCount;
}
