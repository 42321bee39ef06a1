import { Type } from '@fastify/type-provider-typebox';
import { ALL_PERMISSIONS, TENANT_ROLES } from '../access/index.js';
import { IsoDate, pageOf } from '../http/schemas.js';
import { GRACE_SECONDS, KEY_RATE_LIMIT_CAP } from './api-keys.core.js';

const PermissionName = Type.Union(ALL_PERMISSIONS.map((p) => Type.Literal(p)));
const TenantRoleName = Type.Union(TENANT_ROLES.map((r) => Type.Literal(r)));

export const CreateApiKeyBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    roleCeiling: Type.Optional(TenantRoleName),
    permissions: Type.Optional(Type.Array(PermissionName, { minItems: 1, maxItems: ALL_PERMISSIONS.length, uniqueItems: true })),
    expiresAt: Type.Optional(IsoDate),
    rateLimitPerMinute: Type.Optional(Type.Integer({ minimum: 1, maximum: KEY_RATE_LIMIT_CAP })),
  },
  {
    additionalProperties: false,
    examples: [
      { name: 'calendar sync', roleCeiling: 'staff', permissions: ['services.read', 'reservations.read'], rateLimitPerMinute: 120 },
      { name: 'reporting', roleCeiling: 'manager' },
    ],
  },
);

export const RotateApiKeyBody = Type.Object(
  { graceSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: GRACE_SECONDS.max, default: GRACE_SECONDS.default })) },
  { additionalProperties: false, examples: [{ graceSeconds: 3600 }, { graceSeconds: 0 }] },
);

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const ApiKeyBase = {
  id: Type.String(),
  name: Type.String(),
  prefix: Type.String(),
  permissions: Type.Array(Type.String()),
  roleCeiling: Nullable(Type.String()),
  rateLimitPerMinute: Nullable(Type.Integer()),
  createdBy: Type.String(),
  createdAt: IsoDate,
  expiresAt: Nullable(IsoDate),
  revokedAt: Nullable(IsoDate),
  lastUsedAt: Nullable(IsoDate),
  rotatedAt: Nullable(IsoDate),
  rotatedBy: Nullable(Type.String()),
  previousSecretValidUntil: Nullable(IsoDate),
};

/** The only responses that ever carry the secret: create and rotate. */
export const IssuedApiKey = Type.Object({ ...ApiKeyBase, key: Type.String() });
const ApiKeyItem = Type.Object(ApiKeyBase);
export const ApiKeyPage = pageOf(ApiKeyItem);

export const ApiKeyParams = Type.Object(
  { tenantId: Type.String({ maxLength: 64 }), id: Type.String({ maxLength: 64 }) },
  { additionalProperties: false },
);
