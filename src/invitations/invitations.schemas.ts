import { Type } from '@fastify/type-provider-typebox';
import { Email, IsoDate, pageOf, Uuid } from '../http/schemas.js';
import { TenantRoleSchema } from '../tenancy/tenancy.schemas.js';

export const InvitationSchema = Type.Object({ id: Uuid, email: Type.String(), role: TenantRoleSchema, createdAt: IsoDate, expiresAt: IsoDate });
export const InvitationCreated = Type.Object({
  id: Uuid,
  email: Type.String(),
  role: TenantRoleSchema,
  createdAt: IsoDate,
  expiresAt: IsoDate,
  token: Type.Optional(Type.String({ description: 'Only outside production; in production the token is only mailed.' })),
});
export const InvitationPage = pageOf(InvitationSchema);
export const InvitationCreate = Type.Object({ email: Email, role: TenantRoleSchema }, { additionalProperties: false, examples: [{ email: 'grace@example.com', role: 'staff' }] });
export const InvitationParams = Type.Object(
  { tenantId: Type.String({ maxLength: 64 }), id: Type.String({ maxLength: 64 }) },
  { additionalProperties: false },
);
export const AcceptBody = Type.Object({ token: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false, examples: [{ token: 'inv_3f6c2a4e-8d1b-4c7a-9e2f-5b8a1d0c7e41.q8J3kV0mZf5xR2nL7pW9sT4yB6cH1dE0gA3uI8oK2rM' }] });
export const AcceptResponse = Type.Object({ tenantId: Uuid, role: TenantRoleSchema });
