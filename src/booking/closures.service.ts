import { randomUUID } from 'node:crypto';
import { withTenant, type Database } from '../db/index.js';
import { AppError } from '../errors/index.js';
import { decodeCursor, encodeCursor } from '../shared/pagination.js';
import { isUuid } from '../shared/ids.js';
import * as repo from './closures.repo.js';
import { findSettings } from './settings.repo.js';
import { compareDates, localToInstant, nextDate, parseLocalDate, type LocalDate } from './timezone.core.js';
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

/** Exactly one of: `start` + `end`; `date`; `from` + `to` (the route schema types each field). */
export interface ClosureInput {
  readonly start?: string;
  readonly end?: string;
  readonly date?: string;
  readonly from?: string;
  readonly to?: string;
  readonly reason?: string;
}

type ClosureSpan = { kind: 'instants'; start: number; end: number } | { kind: 'days'; first: LocalDate; last: LocalDate };

/** Which of the three forms `input` is, with every field parsed; a mix or a half is 400 naming the field. */
function parseClosureSpan(input: ClosureInput, invalid: (field: string, message: string) => AppError): ClosureSpan {
  const given = (['start', 'end', 'date', 'from', 'to'] as const).filter((k) => input[k] !== undefined);
  const form = given.includes('date') ? ['date'] : given.includes('from') || given.includes('to') ? ['from', 'to'] : ['start', 'end'];
  const stray = given.find((k) => !form.includes(k));
  if (stray) throw invalid(stray, `must not be combined with ${form.join(' and ')}`);
  const missing = form.find((k) => input[k as keyof ClosureInput] === undefined);
  if (missing) throw invalid(missing, given.length === 0 ? 'give start and end, or date, or from and to' : `is required with ${form.filter((k) => k !== missing).join(' and ')}`);
  if (form[0] === 'start') return { kind: 'instants', start: parseInstant(input.start!, 'start'), end: parseInstant(input.end!, 'end') };
  const day = (field: 'date' | 'from' | 'to') => {
    const parsed = parseLocalDate(input[field]!);
    if (!parsed) throw invalid(field, 'must be a calendar date YYYY-MM-DD');
    return parsed;
  };
  if (form[0] === 'date') {
    const d = day('date');
    return { kind: 'days', first: d, last: d };
  }
  const first = day('from');
  const last = day('to');
  if (compareDates(last, first) < 0) throw invalid('to', 'must not be before from');
  const days = (Date.UTC(last.year, last.month - 1, last.day) - Date.UTC(first.year, first.month - 1, first.day)) / 86_400_000 + 1;
  if (days > MAX_CLOSURE_DAYS) throw invalid('to', `must be at most ${MAX_CLOSURE_DAYS} days from from, both included`);
  return { kind: 'days', first, last };
}

/** Tenant-wide closures (holidays): time in which no staff member is bookable, on every route. */
export interface ClosuresService {
  list(tenantId: string, query: { cursor?: string; limit: number }): Promise<{ items: WireClosure[]; nextCursor: string | null }>;
  /**
   * Closes `[start, end)`, or whole local days of the tenant's time zone: `date`, or `from`..`to`
   * (inclusive), each from local midnight to the next local midnight (DST days are 23 or 25 hours;
   * a midnight inside a DST gap is the first instant of that day). Stored as instants: a later
   * change of the tenant's zone does not move a closure, as it does not move time off.
   */
  add(tenantId: string, input: ClosureInput): Promise<WireClosure>;
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
      const span = parseClosureSpan(input, invalid);
      return withTenant(db, tenantId, async (tx) => {
        let start: number;
        let end: number;
        if (span.kind === 'instants') {
          ({ start, end } = span);
          if (end <= start) throw invalid('end', 'must be after start');
          if (end - start > MAX_CLOSURE_DAYS * 86_400_000) throw invalid('end', `must be at most ${MAX_CLOSURE_DAYS} days after start`);
        } else {
          // Local midnights in the zone as it is now, in the transaction that writes the row.
          const { timezone } = await findSettings(tx, tenantId);
          start = localToInstant(span.first, 0, timezone);
          end = localToInstant(nextDate(span.last), 0, timezone);
        }
        return toClosure(await repo.insertClosure(tx, tenantId, { id: randomUUID(), start: new Date(start), end: new Date(end), reason: input.reason ?? null }));
      });
    },

    async remove(tenantId, id) {
      const gone = isUuid(id) && (await withTenant(db, tenantId, (tx) => repo.deleteClosure(tx, tenantId, id)));
      if (!gone) throw notFound('Closure');
    },
  };
}
