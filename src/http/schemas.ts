import { Type, type TSchema } from '@fastify/type-provider-typebox';
import { MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE } from '../shared/pagination.js';
import { ERROR_CATALOGUE, type ErrorCode } from '../errors/index.js';

/** Shared wire schemas. Objects reject unknown fields (additionalProperties: false). */
export const Uuid = Type.String({ format: 'uuid' });
export const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254 });
export const IsoDate = Type.String({ format: 'date-time' });

export const TenantParams = Type.Object({ tenantId: Type.String({ maxLength: 64 }) }, { additionalProperties: false });

/**
 * A query parameter the client may leave out because validation fills in its `default`
 * (`useDefaults`, src/http/validation.ts): optional in the schema, hence in the OpenAPI document
 * and the generated client, but typed as present in handlers, which only ever see it filled.
 */
export function Defaulted<T extends TSchema>(schema: T): T {
  return Type.Optional(schema) as unknown as T;
}

export const PageQuery = Type.Object(
  {
    cursor: Type.Optional(Type.String({ maxLength: 512 })),
    limit: Defaulted(Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })),
  },
  { additionalProperties: false },
);

/** Every wire code of src/errors/catalogue.ts, as one string enum (so generated clients get a union). */
const ErrorCodeSchema = Type.Unsafe<ErrorCode>({ type: 'string', enum: Object.keys(ERROR_CATALOGUE) });

export const ErrorResponse = Type.Object(
  {
    error: ErrorCodeSchema,
    code: ErrorCodeSchema,
    message: Type.String(),
    details: Type.Optional(Type.Unknown()),
    requestId: Type.String(),
    timestamp: IsoDate,
  },
  { $id: 'ErrorResponse', description: 'The one error body (docs/errors.md); `error` and `code` carry the same value.' },
);

/**
 * Route-specific error answers for the OpenAPI document: each status with the catalogue codes
 * the handler can produce, in the one error shape. The errors the pipeline itself produces for
 * the route's access policy (401/403/429, validation, 5xx) are added by src/http/openapi.ts.
 */
export function errorResponses(codes: Partial<Record<number, readonly ErrorCode[]>>): Record<number, { description: string; $ref: string }> {
  return Object.fromEntries(
    Object.entries(codes).map(([status, list = []]) => [status, { description: list.join(', '), $ref: 'ErrorResponse#' }]),
  );
}

/** The answer of a route that replies 204 with no body (`reply.code(204).send()`). */
export const NoContent = Type.Unsafe<undefined>({ type: 'null', description: 'No content' });

/** `{items, nextCursor}`: every list in the API. */
export function pageOf<T extends Parameters<typeof Type.Array>[0]>(item: T) {
  return Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });
}

/**
 * `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header-06) on POSTs that create
 * something: 1–255 visible ASCII characters. Other headers pass through.
 */
export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      pattern: '^[\\x21-\\x7E]+$',
      description: 'Retry-safe creation: the same key with the same body within 24 h replays the first answer (header `Idempotent-Replayed: true`); with another body it is 422 `idempotency_key_reused`; while the first is still running, 409 `idempotency_in_progress`.',
    }),
  ),
});

/**
 * The route's own error answers plus those of Idempotency-Key (400 bad key, 409 still in
 * progress, 422 reused with another body), for POSTs that create something.
 */
export function idempotentErrors(codes: Partial<Record<number, readonly ErrorCode[]>> = {}): ReturnType<typeof errorResponses> {
  const merged: Partial<Record<number, ErrorCode[]>> = {};
  const add = (status: number, list: readonly ErrorCode[]) => (merged[status] = [...new Set([...(merged[status] ?? []), ...list])]);
  for (const [status, list = []] of Object.entries(codes)) add(Number(status), list);
  add(400, ['validation_error']);
  add(409, ['idempotency_in_progress']);
  add(422, ['idempotency_key_reused']);
  return errorResponses(merged);
}
