import { Type } from '@fastify/type-provider-typebox';
import { Defaulted, IsoDate, pageOf } from '../http/schemas.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../shared/pagination.js';

export const AuditQuery = Type.Object(
  {
    from: Type.Optional(IsoDate),
    to: Type.Optional(IsoDate),
    action: Type.Optional(Type.String({ maxLength: 100 })),
    /** `user:<id>`, `api_key:<id>`, or a bare id. */
    actor: Type.Optional(Type.String({ maxLength: 100 })),
    cursor: Type.Optional(Type.String({ maxLength: 64 })),
    limit: Defaulted(Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })),
  },
  { additionalProperties: false },
);

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const AuditItem = Type.Object({
  id: Type.String(),
  at: IsoDate,
  tenantId: Nullable(Type.String()),
  actor: Type.Object({ type: Type.String(), id: Nullable(Type.String()) }),
  action: Type.String(),
  target: Nullable(Type.String()),
  outcome: Type.String(),
  ip: Nullable(Type.String()),
  requestId: Nullable(Type.String()),
  details: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()])),
});

export const AuditPage = pageOf(AuditItem);
