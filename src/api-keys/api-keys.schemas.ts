import { Type } from '@fastify/type-provider-typebox';
import { ALL_PERMISSIONS } from '../access/index.js';
import { IsoDate, pageOf } from '../http/schemas.js';

const PermissionName = Type.Union(ALL_PERMISSIONS.map((p) => Type.Literal(p)));

export const CreateApiKeyBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    permissions: Type.Array(PermissionName, { minItems: 1, maxItems: ALL_PERMISSIONS.length, uniqueItems: true }),
    expiresAt: Type.Optional(IsoDate),
  },
  { additionalProperties: false, examples: [{ name: 'Front desk kiosk', permissions: ['services.read', 'availability.read'], expiresAt: '2027-12-31T23:59:59Z' }] },
);

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const ApiKeyBase = {
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String(),
  permissions: Type.Array(Type.String()),
  createdAt: IsoDate,
  expiresAt: Nullable(IsoDate),
};

/** The only response that ever carries the secret. */
export const CreatedApiKey = Type.Object({ ...ApiKeyBase, key: Type.String() });
const ApiKeyItem = Type.Object({ ...ApiKeyBase, revokedAt: Nullable(IsoDate), lastUsedAt: Nullable(IsoDate) });
export const ApiKeyPage = pageOf(ApiKeyItem);

export const ApiKeyParams = Type.Object(
  { tenantId: Type.String({ maxLength: 64 }), id: Type.String({ maxLength: 64 }) },
  { additionalProperties: false },
);
