import type { RequestMeta } from '../shared/events.js';
import { createHash } from 'node:crypto';

/** Who did it. `anonymous` for unauthenticated requests, `system` for CLI and background jobs. */
export interface AuditActor {
  readonly type: 'user' | 'api_key' | 'anonymous' | 'system';
  readonly id: string | null;
}

export type AuditOutcome = 'success' | 'failure' | 'denied';
export type AuditDetails = Readonly<Record<string, string | number | boolean | null>>;

/** What callers hand to `record`; id, seq, time and hashes are assigned by the writer. */
export interface AuditEntry {
  readonly tenantId: string | null;
  readonly actor: AuditActor;
  readonly action: string;
  readonly target?: string | null;
  readonly outcome: AuditOutcome;
  readonly meta?: RequestMeta | null;
  readonly details?: AuditDetails;
}


/** One audit record as it is hashed and stored. `tenantId` null means the platform chain. */
export interface AuditRecord {
  readonly id: string;
  readonly tenantId: string | null;
  readonly seq: number;
  readonly at: Date;
  readonly actor: AuditActor;
  readonly action: string;
  readonly target: string | null;
  readonly outcome: AuditOutcome;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly requestId: string | null;
  readonly details: AuditDetails;
}

export interface ChainedAuditRecord extends AuditRecord {
  readonly prevHash: Buffer;
  readonly hash: Buffer;
}

/** prev_hash of the first record of every chain. */
export const GENESIS_HASH = Buffer.alloc(32);

function sortedDetails(details: AuditDetails): Array<[string, string | number | boolean | null]> {
  return Object.keys(details)
    .sort()
    .map((k) => [k, details[k] ?? null]);
}

/**
 * The canonical byte string of a record: a JSON array in a fixed field order (object key order
 * in jsonb is not preserved, so details are sorted). Any change to any field changes the hash.
 */
function canonicalize(r: AuditRecord): string {
  return JSON.stringify([
    r.id,
    r.tenantId,
    r.seq,
    r.at.toISOString(),
    r.actor.type,
    r.actor.id,
    r.action,
    r.target,
    r.outcome,
    r.ip,
    r.userAgent,
    r.requestId,
    sortedDetails(r.details),
  ]);
}

/** hash = SHA-256(prev_hash ‖ canonical record): each record commits to the whole chain before it. */
export function chainHash(prevHash: Buffer, record: AuditRecord): Buffer {
  return createHash('sha256').update(prevHash).update(canonicalize(record), 'utf8').digest();
}

export type ChainBreak = {
  readonly seq: number;
  readonly id: string | null;
  readonly reason: 'seq_gap' | 'prev_hash_mismatch' | 'hash_mismatch';
};

/**
 * Incremental verifier for one chain fed in seq order (so a chain of any length streams through
 * in pages). Returns the first broken link, or null while the chain holds.
 */
export function createChainVerifier() {
  let expectedSeq = 1;
  let prev: Buffer = GENESIS_HASH;
  let broken: ChainBreak | null = null;
  return {
    push(r: ChainedAuditRecord): ChainBreak | null {
      if (broken) return broken;
      if (r.seq !== expectedSeq) broken = { seq: expectedSeq, id: null, reason: 'seq_gap' };
      else if (!r.prevHash.equals(prev)) broken = { seq: r.seq, id: r.id, reason: 'prev_hash_mismatch' };
      else if (!chainHash(r.prevHash, r).equals(r.hash)) broken = { seq: r.seq, id: r.id, reason: 'hash_mismatch' };
      expectedSeq += 1;
      prev = r.hash;
      return broken;
    },
    get count() {
      return expectedSeq - 1;
    },
  };
}
