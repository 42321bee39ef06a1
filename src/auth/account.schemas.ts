import { Type } from '@fastify/type-provider-typebox';
import { Email, Uuid } from '../http/schemas.js';

/** Like login: no length rules on a password presented again; a wrong one is just wrong. */
const CurrentPassword = Type.String({ minLength: 1, maxLength: 1024 });

export const ProfilePatch = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false, examples: [{ name: 'Ada Lovelace' }] },
);

export const ProfileResponse = Type.Object({
  user: Type.Object({ id: Uuid, email: Type.String(), name: Type.String(), emailVerified: Type.Boolean() }),
});

export const EmailChangeBody = Type.Object(
  { newEmail: Email, password: CurrentPassword },
  { additionalProperties: false, examples: [{ newEmail: 'ada@new.example', password: 'correct horse battery staple' }] },
);

export const EmailChangeConfirmBody = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 512 }) },
  { additionalProperties: false, examples: [{ token: 'ec_0b8f5a3e-6c1d-4f7a-9a52-3d1e2f4b5c6d.<secret from the link>' }] },
);

export const DeleteAccountBody = Type.Object(
  { password: CurrentPassword },
  { additionalProperties: false, examples: [{ password: 'correct horse battery staple' }] },
);
