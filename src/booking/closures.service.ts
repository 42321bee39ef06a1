import { randomUUID } from 'node:crypto';
import { withTenant, type Database } from '../db/index.js';
import { AppError } from '../errors/index.js';
import { decodeCursor, encodeCursor } from '../shared/pagination.js';
import { isUuid } from '../shared/ids.js';
import * as repo from './closures.repo.js';
import { iso, notFound, parseInstant } from './wire.js';

/** Longest single closure; a longer one is a tenant that should deactivate its services. */
export const MAX_CLOSURE_DAYS = 366;

export interface WireClosure {
  readonly id: string;
  readonly start: string;
  readonly end: string;
  readonly reason?: string;
}

function toClosure(c: repo.ClosureRecord): WireClosure {
  return { id: c.id, start: iso(c.start), end: iso(c.end), ...(c.reason ? { reason: c.reason } : {}) };
}

/** Tenant-wide closures (holidays): time in which no staff member is bookable, on every route. */
export interface ClosuresService {
  list(tenantId: string, query: { cursor?: string; limit: number }): Promise<{ items: WireClosure[]; nextCursor: string | null }>;
  add(tenantId: string, input: { start: string; end: string; reason?: string }): Promise<WireClosure>;
  remove(tenantId: string, id: string): Promise<void>;
}

export function createClosuresService(deps: { db: Database }): ClosuresService {
  const { db } = deps;
  const invalid = (field: string, message: string) => new AppError('validation_error', 'The request is invalid', [{ field, in: 'body', message }]);
  return {
    list(tenantId, query) {
      const key = decodeCursor(query.cursor, (k) => {
        const [t, id] = k.split('|');
        return t !== undefined && !Number.isNaN(Date.parse(t)) && isUuid(id);
      });
      const after = key ? { start: new Date(key.split('|')[0]!), id: key.split('|')[1]! } : null;
      return withTenant(db, tenantId, async (tx) => {
        const rows = await repo.listClosures(tx, tenantId, { after, limit: query.limit + 1 });
        const items = rows.slice(0, query.limit);
        const last = items[items.length - 1];
        return {
          items: items.map(toClosure),
          nextCursor: rows.length > query.limit && last ? encodeCursor(`${iso(last.start)}|${last.id}`) : null,
        };
      }, { readOnly: true });
    },

    add(tenantId, input) {
      const start = parseInstant(input.start, 'start');
      const end = parseInstant(input.end, 'end');
      if (end <= start) throw invalid('end', 'must be after start');
      if (end - start > MAX_CLOSURE_DAYS * 86_400_000) throw invalid('end', `must be at most ${MAX_CLOSURE_DAYS} days after start`);
      return withTenant(db, tenantId, async (tx) =>
        toClosure(await repo.insertClosure(tx, tenantId, { id: randomUUID(), start: new Date(start), end: new Date(end), reason: input.reason ?? null })),
      );
    },

    async remove(tenantId, id) {
      const gone = isUuid(id) && (await withTenant(db, tenantId, (tx) => repo.deleteClosure(tx, tenantId, id)));
      if (!gone) throw notFound('Closure');
    },
  };
}
