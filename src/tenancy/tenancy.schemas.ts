import { Type } from '@fastify/type-provider-typebox';
import { IsoDate, pageOf, Uuid } from '../http/schemas.js';

// Literal list mirrors TENANT_ROLES (test/auth/permissions.test.ts keeps them equal).
export const TenantRoleSchema = Type.Union([
  Type.Literal('owner'),
  Type.Literal('manager'),
  Type.Literal('staff'),
  Type.Literal('customer'),
  Type.Literal('guest'),
]);

export const CreateTenantBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    slug: Type.String({ minLength: 3, maxLength: 63, pattern: '^[a-z0-9]+(?:-[a-z0-9]+)*$' }),
  },
  { additionalProperties: false, examples: [{ name: 'Studio Nord', slug: 'studio-nord' }] },
);

export const TenantResponse = Type.Object({ id: Uuid, name: Type.String(), slug: Type.String(), createdAt: IsoDate });

export const MemberSchema = Type.Object({ userId: Uuid, email: Type.String(), name: Type.String(), role: TenantRoleSchema });
export const MemberPage = pageOf(MemberSchema);

export const ChangeRoleBody = Type.Object({ role: TenantRoleSchema }, { additionalProperties: false, examples: [{ role: 'manager' }] });
export const MemberParams = Type.Object(
  { tenantId: Type.String({ maxLength: 64 }), userId: Type.String({ maxLength: 64 }) },
  { additionalProperties: false },
);
