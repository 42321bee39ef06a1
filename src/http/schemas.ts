import { Type } from '@fastify/type-provider-typebox';
import { MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE } from '../shared/pagination.js';
import { ERROR_CATALOGUE } from '../errors/index.js';

/** Shared wire schemas. Objects reject unknown fields (additionalProperties: false). */
export const Uuid = Type.String({ format: 'uuid' });
export const Email = Type.String({ format: 'email', minLength: 3, maxLength: 254 });
export const IsoDate = Type.String({ format: 'date-time' });

export const TenantParams = Type.Object({ tenantId: Type.String({ maxLength: 64 }) }, { additionalProperties: false });

export const PageQuery = Type.Object(
  {
    cursor: Type.Optional(Type.String({ maxLength: 512 })),
    limit: Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE }),
  },
  { additionalProperties: false },
);

export const ErrorResponse = Type.Object(
  {
    error: Type.Union(Object.keys(ERROR_CATALOGUE).map((c) => Type.Literal(c))),
    code: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Unknown()),
    requestId: Type.String(),
    timestamp: IsoDate,
  },
  { $id: 'ErrorResponse' },
);

/** `{items, nextCursor}`: every list in the API. */
export function pageOf<T extends Parameters<typeof Type.Array>[0]>(item: T) {
  return Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });
}

/**
 * Error answers for the OpenAPI document: each status with the catalogue codes it can carry
 * (docs/errors.md), in the one error shape.
 */
export function errorResponses(codes: Record<number, readonly string[]>): Record<number, unknown> {
  return Object.fromEntries(
    Object.entries(codes).map(([status, list]) => [status, { description: list.join(', '), $ref: 'ErrorResponse#' }]),
  );
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
