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
