/**
 * Canonical UUIDs: the only form an id may take once it is inside Boka. A lookup, a cache key
 * or a comparison made with a client's raw spelling (upper case, braces, `urn:uuid:`) would
 * name the same row under a second key.
 */
const CANONICAL_UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const UUID_ANY_CASE_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a UUID in its 8-4-4-4-12 hexadecimal form, either case. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_ANY_CASE_RE.test(value);
}

/** True only for the canonical (lower-case) spelling. */
export function isCanonicalUuid(value: unknown): value is string {
  return typeof value === 'string' && CANONICAL_UUID_RE.test(value);
}
