import type { Queryable } from '../db/index.js';
import type { AuditOutcome, ChainedAuditRecord } from './audit.core.js';

interface AuditRow {
  id: string;
  tenantId: string | null;
  seq: string | number;
  at: Date;
  actorType: ChainedAuditRecord['actor']['type'];
  actorId: string | null;
  action: string;
  target: string | null;
  outcome: AuditOutcome;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  details: Record<string, string | number | boolean | null>;
  prevHash: Buffer | Uint8Array;
  hash: Buffer | Uint8Array;
}

const COLUMNS = `id, tenant_id AS "tenantId", seq, at, actor_type AS "actorType", actor_id AS "actorId", action, target,
  outcome, ip, user_agent AS "userAgent", request_id AS "requestId", details, prev_hash AS "prevHash", hash`;

function toRecord(r: AuditRow): ChainedAuditRecord {
  return {
    id: r.id,
    tenantId: r.tenantId,
    seq: Number(r.seq),
    at: r.at,
    actor: { type: r.actorType, id: r.actorId },
    action: r.action,
    target: r.target,
    outcome: r.outcome,
    ip: r.ip,
    userAgent: r.userAgent,
    requestId: r.requestId,
    details: r.details,
    prevHash: Buffer.from(r.prevHash),
    hash: Buffer.from(r.hash),
  };
}

/**
 * Serialises appends to one chain: a transaction-scoped advisory lock keyed by the chain, held
 * until commit, so concurrent writers (other instances) cannot both read the same head.
 * The unique (chain, seq) index is the backstop.
 */
export async function lockChain(tx: Queryable, tenantId: string | null): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`boka:audit:${tenantId ?? 'platform'}`]);
}

/** The chain's head (last record), read inside the tenant's (or no tenant's) RLS context. */
export async function findChainHead(tx: Queryable, tenantId: string | null): Promise<{ seq: number; hash: Buffer } | null> {
  const res = await tx.query<{ seq: string | number; hash: Buffer | Uint8Array }>(
    `SELECT seq, hash FROM audit_log WHERE tenant_id IS NOT DISTINCT FROM $1::uuid ORDER BY seq DESC LIMIT 1`,
    [tenantId],
  );
  const row = res.rows[0];
  return row ? { seq: Number(row.seq), hash: Buffer.from(row.hash) } : null;
}

export async function insertRecord(tx: Queryable, r: ChainedAuditRecord): Promise<void> {
  await tx.query(
    `INSERT INTO audit_log (id, tenant_id, seq, at, actor_type, actor_id, action, target, outcome, ip, user_agent,
       request_id, details, prev_hash, hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
    [
      r.id, r.tenantId, r.seq, r.at, r.actor.type, r.actor.id, r.action, r.target, r.outcome, r.ip, r.userAgent,
      r.requestId, JSON.stringify(r.details), r.prevHash, r.hash,
    ],
  );
}

export interface AuditFilter {
  from: Date | null;
  to: Date | null;
  action: string | null;
  actorType: string | null;
  actorId: string | null;
  /** Keyset: records with seq below this (newest first). */
  beforeSeq: number | null;
  limit: number;
}

/** Newest first. `tenantId` null lists the platform chain. */
export async function listRecords(tx: Queryable, tenantId: string | null, f: AuditFilter): Promise<ChainedAuditRecord[]> {
  const res = await tx.query<AuditRow>(
    `SELECT ${COLUMNS} FROM audit_log
      WHERE tenant_id IS NOT DISTINCT FROM $1::uuid
        AND ($2::timestamptz IS NULL OR at >= $2) AND ($3::timestamptz IS NULL OR at < $3)
        AND ($4::text IS NULL OR action = $4)
        AND ($5::text IS NULL OR actor_type = $5) AND ($6::text IS NULL OR actor_id = $6)
        AND ($7::bigint IS NULL OR seq < $7)
      ORDER BY seq DESC LIMIT $8`,
    [tenantId, f.from, f.to, f.action, f.actorType, f.actorId, f.beforeSeq, f.limit],
  );
  return res.rows.map(toRecord);
}

/** One page of a chain in seq order, for the verifier. */
export async function readChainPage(tx: Queryable, tenantId: string | null, afterSeq: number, limit: number): Promise<ChainedAuditRecord[]> {
  const res = await tx.query<AuditRow>(
    `SELECT ${COLUMNS} FROM audit_log WHERE tenant_id IS NOT DISTINCT FROM $1::uuid AND seq > $2 ORDER BY seq LIMIT $3`,
    [tenantId, afterSeq, limit],
  );
  return res.rows.map(toRecord);
}

/** Every tenant that has a chain (through a SECURITY DEFINER function: only ids are revealed). */
export async function listChainTenants(db: Queryable): Promise<string[]> {
  const res = await db.query<{ id: string }>(`SELECT audit_chain_tenants() AS id`);
  return res.rows.map((r) => r.id);
}
