import { AjvCompiler } from '@fastify/ajv-compiler';
import type { FastifyServerOptions } from 'fastify';
import { isCanonicalUuid } from '../shared/ids.js';

/**
 * The instants Boka accepts, as epoch milliseconds: 1900-01-01 up to (not including) 3000-01-01.
 * Far outside any booking, and far inside what PostgreSQL and PGlite store (PGlite fails on year
 * 0000 and on years past 9999; an offset can carry `9999-12-31T23:59Z` past it).
 */
export const MIN_INSTANT_MS = Date.UTC(1900, 0, 1);
export const MAX_INSTANT_MS = Date.UTC(3000, 0, 1);

// RFC 3339 §5.6 with a four-digit year, seconds always present and a numeric offset `±HH:MM`.
// A leap second (`23:59:60`) is refused: neither JavaScript nor PostgreSQL can hold it.
const DATE_TIME_RE = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(\.\d{1,9})?(Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/i;

/** True for an RFC 3339 date-time that names a real calendar day inside the accepted range. */
export function isAcceptedInstant(value: string): boolean {
  const m = DATE_TIME_RE.exec(value);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Date.UTC rolls 02-30 over to March; the day must survive the round trip.
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return false;
  const ms = Date.parse(value);
  return Number.isFinite(ms) && ms >= MIN_INSTANT_MS && ms < MAX_INSTANT_MS;
}

const SHARED_AJV_OPTIONS = { removeAdditional: false, useDefaults: true } as const;

/** Replaces two permissive ajv-formats definitions with the forms the database can hold. */
function addStrictFormats(ajv: { addFormat(name: string, format: (value: string) => boolean): unknown }): void {
  // ajv-formats' `uuid` admits `urn:uuid:` and upper case; only the canonical spelling names a row.
  ajv.addFormat('uuid', isCanonicalUuid);
  ajv.addFormat('date-time', isAcceptedInstant);
}

/**
 * Fastify's schema controller with one Ajv per kind of input: JSON bodies are validated strictly
 * (`{"email":42}` is a 400, not the string "42"; `null` is not 0), while the querystring, path
 * parameters and headers, which are text on the wire, keep `coerceTypes: 'array'`.
 */
export function buildSchemaController(): NonNullable<FastifyServerOptions['schemaController']> {
  const strictPool = AjvCompiler();
  const coercingPool = AjvCompiler();
  return {
    compilersFactory: {
      buildValidator(externalSchemas: Record<string, unknown>) {
        const external = externalSchemas as Parameters<typeof strictPool>[0];
        const strict = strictPool(external, { customOptions: { ...SHARED_AJV_OPTIONS, coerceTypes: false }, onCreate: addStrictFormats });
        const coercing = coercingPool(external, { customOptions: { ...SHARED_AJV_OPTIONS, coerceTypes: 'array' }, onCreate: addStrictFormats });
        return (route: Parameters<typeof strict>[0]) => (route.httpPart === 'body' ? strict(route) : coercing(route));
      },
    },
  };
}
