import type { Database } from '../db/index.js';
import { AppError } from '../errors/index.js';
import type { Clock } from '../shared/clock.js';
import { decideExisting, isReplayable } from './idempotency.core.js';
import * as repo from './idempotency.repo.js';

/** One claimed key: the request that holds it stores (or releases) its answer. */
export interface IdempotencyClaim {
  readonly scope: string;
  readonly key: string;
  readonly fingerprint: Buffer;
}

export type BeginResult = { kind: 'claimed'; claim: IdempotencyClaim } | { kind: 'replay'; status: number; body: string };

/**
 * Idempotency-Key storage (draft-ietf-httpapi-idempotency-key-header-06 §2; ADR 0018). Keys live
 * `ttlSeconds` (≥ 24 h) per scope. The first request claims the key (`in_progress`); a
 * concurrent duplicate is refused with 409 `idempotency_in_progress` (§2.6), a different body
 * with 422 `idempotency_key_reused`, a finished one is replayed.
 */
export interface IdempotencyService {
  begin(scope: string, key: string, fingerprint: Buffer): Promise<BeginResult>;
  /** Stores a replayable answer (2xx, deterministic 4xx); releases the key for any other. */
  finish(claim: IdempotencyClaim, status: number, body: string): Promise<void>;
}

const PURGE_BATCH = 100;

export function createIdempotencyService(deps: { db: Database; clock: Clock; ttlSeconds: number; leaseSeconds: number }): IdempotencyService {
  const { db, clock } = deps;
  return {
    async begin(scope, key, fingerprint) {
      // Two rounds at most: a row that expires (or whose lease lapses) between the claim and the
      // read is claimed on the second round; anything still contended then is "in progress".
      for (let round = 0; round < 2; round++) {
        const now = clock.now();
        const claimed = await repo.claimKey(db, {
          scope,
          key,
          fingerprint,
          now: new Date(now),
          lockedUntil: new Date(now + deps.leaseSeconds * 1000),
          expiresAt: new Date(now + deps.ttlSeconds * 1000),
        });
        if (claimed) {
          await repo.purgeExpired(db, new Date(now), PURGE_BATCH);
          return { kind: 'claimed', claim: { scope, key, fingerprint } };
        }
        const decision = decideExisting(await repo.findKey(db, scope, key), fingerprint, clock.now());
        if (decision.kind === 'replay') return decision;
        if (decision.kind === 'reused') {
          throw new AppError('idempotency_key_reused', undefined, { header: 'Idempotency-Key' });
        }
        if (decision.kind === 'in_progress') break;
      }
      throw new AppError('idempotency_in_progress', undefined, { header: 'Idempotency-Key' }, { headers: { 'retry-after': '1' } });
    },

    async finish(claim, status, body) {
      if (isReplayable(status)) await repo.completeKey(db, { ...claim, status, body });
      else await repo.releaseKey(db, claim);
    },
  };
}
