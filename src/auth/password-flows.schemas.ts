import { Type } from '@fastify/type-provider-typebox';
import { Password } from './auth.schemas.js';

export const ChangePasswordBody = Type.Object(
  { currentPassword: Type.String({ maxLength: 1024 }), newPassword: Password },
  { additionalProperties: false },
);
export const ForgotPasswordBody = Type.Object({ email: Type.String({ maxLength: 254 }) }, { additionalProperties: false });
export const ResetPasswordBody = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 512 }), newPassword: Password },
  { additionalProperties: false },
);
