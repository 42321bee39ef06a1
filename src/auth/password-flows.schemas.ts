import { Type } from '@fastify/type-provider-typebox';
import { Password } from './auth.schemas.js';

export const ChangePasswordBody = Type.Object(
  { currentPassword: Type.String({ maxLength: 1024 }), newPassword: Password },
  { additionalProperties: false, examples: [{ currentPassword: 'plum-tuesday-kettle-42', newPassword: 'violet-orbit-harbour-97' }] },
);
export const ForgotPasswordBody = Type.Object({ email: Type.String({ maxLength: 254 }) }, { additionalProperties: false, examples: [{ email: 'ada@example.com' }] });
export const ResetPasswordBody = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 512 }), newPassword: Password },
  { additionalProperties: false, examples: [{ token: 'pr_3f6c2a4e-8d1b-4c7a-9e2f-5b8a1d0c7e41.q8J3kV0mZf5xR2nL7pW9sT4yB6cH1dE0gA3uI8oK2rM', newPassword: 'violet-orbit-harbour-97' }] },
);
