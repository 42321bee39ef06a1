import { AppError } from '../errors/index.js';

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 50;

/** Opaque cursor: base64url of the last item's sort key. Clients must not parse it. */
export function encodeCursor(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined, isValid: (key: string) => boolean): string | null {
  if (cursor === undefined || cursor === '') return null;
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!isValid(key)) throw new AppError('validation_error', 'Invalid cursor', [{ field: 'cursor', message: 'is not a cursor from this list' }]);
  return key;
}

/** One page of a keyset-paginated list; `nextCursor` is null on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Given `limit + 1` rows, returns the page and the cursor of the next one (or null). */
export function toPage<T>(rows: T[], limit: number, keyOf: (row: T) => string): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null };
}
