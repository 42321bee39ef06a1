import { Type } from '@fastify/type-provider-typebox';
import { Email, Uuid } from '../http/schemas.js';

/**
 * 204 answers in the OpenAPI document. (The OpenAPI branch adds a shared `NoContent` to
 * src/http/schemas.ts with this exact shape; use that one once both are merged.)
 */
export const NoContent = Type.Unsafe<undefined>({ type: 'null', description: 'No content' });

/** Example password of the documented bodies: deliberately not a real account's password. */
const EXAMPLE_PASSWORD = 'the current password of this account';

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
  { additionalProperties: false, examples: [{ newEmail: 'ada@new.example', password: EXAMPLE_PASSWORD }] },
);

export const EmailChangeConfirmBody = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 512 }) },
  { additionalProperties: false, examples: [{ token: 'ec_0b8f5a3e-6c1d-4f7a-9a52-3d1e2f4b5c6d.<secret from the link>' }] },
);

export const DeleteAccountBody = Type.Object(
  { password: CurrentPassword },
  { additionalProperties: false, examples: [{ password: EXAMPLE_PASSWORD }] },
);
