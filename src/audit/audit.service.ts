import { randomUUID } from 'node:crypto';
import { withTenant, type Database, type Queryable } from '../db/index.js';
import type { Clock } from '../shared/clock.js';
import type { EventHub } from '../shared/events.js';
import { chainHash, createChainVerifier, GENESIS_HASH, type AuditEntry, type ChainBreak, type ChainedAuditRecord } from './audit.core.js';
import * as repo from './audit.repo.js';
import { subscribeAuditEvents } from './audit.subscriptions.js';

export type { AuditEntry } from './audit.core.js';

export interface AuditServiceOptions {
  db: Database;
  clock: Clock;
  events: EventHub;
  /** Called when a record could not be written after every retry; the record is passed whole (it holds no secret). */
  onWriteError?: (err: unknown, entry: AuditEntry) => void;
  retries?: number;
}

const PAGE = 500;

/**
 * The append-only audit log. Writes are asynchronous: `record` queues the entry and returns at
 * once, so a request never waits for (or fails because of) its audit row. Each chain has one
 * in-process queue, and the database transaction takes an advisory lock per chain, so neither
 * concurrent requests nor other instances can fork a chain. A write that still fails after
 * retries is reported to `onWriteError` (logged at error level by the app) and counted; it is
 * never dropped silently. `flush()` waits for everything queued (tests, shutdown).
 */
export interface AuditService {
  /** Queues the entry on its chain and returns at once. */
  record(entry: AuditEntry): void;
  /** Resolves when every record queued so far is written (or reported as failed). */
  flush(): Promise<void>;
  stats(): { written: number; failed: number };
  /** One chain's records (the platform chain when `tenantId` is null), filtered. */
  list(tenantId: string | null, filter: repo.AuditFilter): Promise<ChainedAuditRecord[]>;
  /** Re-walks the platform chain and every tenant chain; returns the first broken link of each broken chain. */
  verify(): Promise<{ chains: number; records: number; broken: Array<ChainBreak & { tenantId: string | null }> }>;
}

export function createAuditService(opts: AuditServiceOptions): AuditService {
  const queues = new Map<string, Promise<void>>();
  const retries = opts.retries ?? 3;
  const stats = { written: 0, failed: 0 };

  async function append(entry: AuditEntry): Promise<void> {
    const write = async (tx: Queryable) => {
      await repo.lockChain(tx, entry.tenantId);
      const head = await repo.findChainHead(tx, entry.tenantId);
      const base = {
        id: randomUUID(),
        tenantId: entry.tenantId,
        seq: (head?.seq ?? 0) + 1,
        at: new Date(opts.clock.now()),
        actor: entry.actor,
        action: entry.action,
        target: entry.target ?? null,
        outcome: entry.outcome,
        ip: entry.meta?.ip ?? null,
        userAgent: entry.meta?.userAgent ?? null,
        requestId: entry.meta?.requestId ?? null,
        details: entry.details ?? {},
      };
      const prevHash = head?.hash ?? GENESIS_HASH;
      await repo.insertRecord(tx, { ...base, prevHash, hash: chainHash(prevHash, base) });
    };
    let lastErr: unknown;
    for (let attempt = 0; attempt <= retries; attempt += 1) {
      try {
        if (entry.tenantId) await withTenant(opts.db, entry.tenantId, write);
        else await opts.db.transaction(write);
        stats.written += 1;
        return;
      } catch (err) {
        lastErr = err;
        await new Promise((r) => setTimeout(r, 20 * 2 ** attempt));
      }
    }
    stats.failed += 1;
    opts.onWriteError?.(lastErr, entry);
  }

  function record(entry: AuditEntry): void {
    const chain = entry.tenantId ?? 'platform';
    const next = (queues.get(chain) ?? Promise.resolve()).then(() => append(entry));
    queues.set(chain, next);
    void next.then(() => {
      if (queues.get(chain) === next) queues.delete(chain);
    });
  }

  const service: AuditService = {
    record,

    async flush(): Promise<void> {
      while (queues.size > 0) await Promise.all([...queues.values()]);
    },

    stats: () => ({ ...stats }),

    list(tenantId: string | null, filter: repo.AuditFilter) {
      return tenantId
        ? withTenant(opts.db, tenantId, (tx) => repo.listRecords(tx, tenantId, filter), { readOnly: true })
        : repo.listRecords(opts.db, null, filter);
    },

    async verify(): Promise<{ chains: number; records: number; broken: Array<ChainBreak & { tenantId: string | null }> }> {
      const chains: Array<string | null> = [null, ...(await repo.listChainTenants(opts.db))];
      const broken: Array<ChainBreak & { tenantId: string | null }> = [];
      let records = 0;
      for (const tenantId of chains) {
        const verifier = createChainVerifier();
        let after = 0;
        let failure: ChainBreak | null = null;
        for (;;) {
          const page = tenantId
            ? await withTenant(opts.db, tenantId, (tx) => repo.readChainPage(tx, tenantId, after, PAGE), { readOnly: true })
            : await repo.readChainPage(opts.db, null, after, PAGE);
          for (const r of page) {
            failure = verifier.push(r);
            if (failure) break;
          }
          const last = page[page.length - 1];
          if (failure || !last || page.length < PAGE) break;
          after = last.seq;
        }
        records += verifier.count;
        if (failure) broken.push({ ...failure, tenantId });
      }
      return { chains: chains.length, records, broken };
    },
  };

  subscribeAuditEvents(opts.events, record);
  return service;
}
