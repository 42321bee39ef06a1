import type { Queryable } from '../db/index.js';

export interface EndpointRecord {
  id: string;
  tenantId: string;
  url: string;
  events: string[];
  secretEnc: string;
  secretPrefix: string;
  enabled: boolean;
  disabledReason: string | null;
  consecutiveFailures: number;
  createdAt: Date;
  updatedAt: Date;
}

const COLUMNS = `id, tenant_id AS "tenantId", url, events, secret_enc AS "secretEnc", secret_prefix AS "secretPrefix", enabled,
  disabled_reason AS "disabledReason", consecutive_failures AS "consecutiveFailures", created_at AS "createdAt", updated_at AS "updatedAt"`;

export async function insertEndpoint(tx: Queryable, e: Omit<EndpointRecord, 'enabled' | 'disabledReason' | 'consecutiveFailures' | 'updatedAt'>): Promise<EndpointRecord> {
  const res = await tx.query<EndpointRecord>(
    `INSERT INTO webhook_endpoints (id, tenant_id, url, events, secret_enc, secret_prefix, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING ${COLUMNS}`,
    [e.id, e.tenantId, e.url, e.events, e.secretEnc, e.secretPrefix, e.createdAt],
  );
  return res.rows[0]!;
}

export async function countEndpoints(tx: Queryable, tenantId: string): Promise<number> {
  const res = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_endpoints WHERE tenant_id = $1', [tenantId]);
  return res.rows[0]?.n ?? 0;
}

export async function listEndpoints(tx: Queryable, tenantId: string): Promise<EndpointRecord[]> {
  const res = await tx.query<EndpointRecord>(`SELECT ${COLUMNS} FROM webhook_endpoints WHERE tenant_id = $1 ORDER BY created_at, id`, [tenantId]);
  return res.rows;
}

export async function findEndpoint(tx: Queryable, tenantId: string, id: string, forUpdate = false): Promise<EndpointRecord | null> {
  const res = await tx.query<EndpointRecord>(`SELECT ${COLUMNS} FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2${forUpdate ? ' FOR UPDATE' : ''}`, [tenantId, id]);
  return res.rows[0] ?? null;
}

/** Enabled endpoints of `tenantId` subscribed to `event`. */
export async function listSubscribed(tx: Queryable, tenantId: string, event: string): Promise<Array<{ id: string }>> {
  const res = await tx.query<{ id: string }>('SELECT id FROM webhook_endpoints WHERE tenant_id = $1 AND enabled AND $2 = ANY(events)', [tenantId, event]);
  return res.rows;
}

export async function updateEndpoint(tx: Queryable, tenantId: string, id: string, patch: { url?: string; events?: string[]; enabled?: boolean; secretEnc?: string; secretPrefix?: string; now: Date }): Promise<EndpointRecord | null> {
  const res = await tx.query<EndpointRecord>(
    `UPDATE webhook_endpoints SET url = COALESCE($3, url), events = COALESCE($4, events),
        enabled = COALESCE($5, enabled),
        disabled_reason = CASE WHEN $5 IS TRUE THEN NULL WHEN $5 IS FALSE THEN 'disabled by a member' ELSE disabled_reason END,
        consecutive_failures = CASE WHEN $5 IS TRUE THEN 0 ELSE consecutive_failures END,
        secret_enc = COALESCE($6, secret_enc), secret_prefix = COALESCE($7, secret_prefix), updated_at = $8
      WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
    [tenantId, id, patch.url ?? null, patch.events ?? null, patch.enabled ?? null, patch.secretEnc ?? null, patch.secretPrefix ?? null, patch.now],
  );
  return res.rows[0] ?? null;
}

export async function deleteEndpoint(tx: Queryable, tenantId: string, id: string): Promise<boolean> {
  const res = await tx.query('DELETE FROM webhook_endpoints WHERE tenant_id = $1 AND id = $2', [tenantId, id]);
  return res.rowCount === 1;
}

/** Records one attempt's outcome and returns the endpoint's failure streak after it. */
export async function recordOutcome(tx: Queryable, tenantId: string, endpointId: string, delivered: boolean): Promise<number> {
  const res = await tx.query<{ n: number }>(
    `UPDATE webhook_endpoints SET consecutive_failures = CASE WHEN $3 THEN 0 ELSE consecutive_failures + 1 END
      WHERE tenant_id = $1 AND id = $2 RETURNING consecutive_failures AS n`,
    [tenantId, endpointId, delivered],
  );
  return res.rows[0]?.n ?? 0;
}

export async function disableEndpoint(tx: Queryable, tenantId: string, endpointId: string, reason: string, now: Date): Promise<boolean> {
  const res = await tx.query('UPDATE webhook_endpoints SET enabled = false, disabled_reason = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2 AND enabled',
    [tenantId, endpointId, reason, now]);
  return res.rowCount === 1;
}

export interface DeliveryRecord {
  id: string;
  messageId: string;
  event: string;
  attempt: number;
  outcome: 'delivered' | 'failed';
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  nextAttemptAt: Date | null;
  createdAt: Date;
}

export async function insertDelivery(tx: Queryable, tenantId: string, endpointId: string, d: DeliveryRecord): Promise<void> {
  await tx.query(
    `INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, message_id, event, attempt, outcome, status_code, error, duration_ms, next_attempt_at, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [d.id, tenantId, endpointId, d.messageId, d.event, d.attempt, d.outcome, d.statusCode, d.error, d.durationMs, d.nextAttemptAt, d.createdAt],
  );
}

export async function listDeliveries(tx: Queryable, tenantId: string, endpointId: string, limit: number): Promise<DeliveryRecord[]> {
  const res = await tx.query<DeliveryRecord>(
    `SELECT id, message_id AS "messageId", event, attempt, outcome, status_code AS "statusCode", error, duration_ms AS "durationMs",
            next_attempt_at AS "nextAttemptAt", created_at AS "createdAt"
       FROM webhook_deliveries WHERE tenant_id = $1 AND endpoint_id = $2 ORDER BY created_at DESC, attempt DESC LIMIT $3`,
    [tenantId, endpointId, limit],
  );
  return res.rows;
}
