import { Type } from '@fastify/type-provider-typebox';
import { Defaulted, IsoDate, pageOf, Uuid } from '../http/schemas.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../shared/pagination.js';

export const UserStatusSchema = Type.Union([Type.Literal('active'), Type.Literal('disabled'), Type.Literal('deleted')]);

export const UserListQuery = Type.Object(
  {
    cursor: Type.Optional(Type.String({ maxLength: 512 })),
    limit: Defaulted(Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })),
    /** Case-insensitive prefix of the email address. */
    emailPrefix: Type.Optional(Type.String({ minLength: 1, maxLength: 254 })),
    status: Type.Optional(UserStatusSchema),
  },
  { additionalProperties: false },
);

export const UserParams = Type.Object({ userId: Type.String({ maxLength: 64 }) }, { additionalProperties: false });

const Reason = Type.String({ minLength: 1, maxLength: 500, description: 'Why; stored with the account and in the audit log' });
export const DisableBody = Type.Object(
  { reason: Reason },
  { additionalProperties: false, examples: [{ reason: 'Support ticket #4711: account reported compromised' }] },
);
export const EnableBody = Type.Object(
  { reason: Reason },
  { additionalProperties: false, examples: [{ reason: 'Support ticket #4711: owner verified, password reset' }] },
);

export const AdminUser = Type.Object({
  id: Uuid,
  email: Type.String(),
  name: Type.String(),
  isSuperadmin: Type.Boolean(),
  emailVerified: Type.Boolean(),
  status: UserStatusSchema,
  createdAt: IsoDate,
  disabledAt: Type.Union([IsoDate, Type.Null()]),
  disabledReason: Type.Union([Type.String(), Type.Null()]),
});

export const AdminUserPage = pageOf(AdminUser);
