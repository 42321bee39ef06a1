import { Type } from '@fastify/type-provider-typebox';
import { Email, Uuid } from '../http/schemas.js';
import { AuthenticationResponse } from './webauthn.schemas.js';

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

/**
 * The re-authentication proof (reauth.ts, ADR 0021): exactly one of the password, a passkey
 * assertion (options from POST /api/auth/passkeys/reauthentication/options) or, for an account
 * that signs in only through OpenID Connect, `recentSignIn: true` within 10 minutes of that sign-in.
 */
const proofVariants = {
  password: { password: CurrentPassword },
  passkey: { passkey: AuthenticationResponse },
  recentSignIn: { recentSignIn: Type.Literal(true) },
} as const;

const strict = { additionalProperties: false } as const;

export const EmailChangeBody = Type.Union(
  [
    Type.Object({ newEmail: Email, ...proofVariants.password }, strict),
    Type.Object({ newEmail: Email, ...proofVariants.passkey }, strict),
    Type.Object({ newEmail: Email, ...proofVariants.recentSignIn }, strict),
  ],
  { examples: [{ newEmail: 'ada@new.example', password: EXAMPLE_PASSWORD }, { newEmail: 'ada@new.example', recentSignIn: true }] },
);

export const EmailChangeConfirmBody = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 512 }) },
  { additionalProperties: false, examples: [{ token: 'ec_0b8f5a3e-6c1d-4f7a-9a52-3d1e2f4b5c6d.<secret from the link>' }] },
);

export const DeleteAccountBody = Type.Union(
  [Type.Object(proofVariants.password, strict), Type.Object(proofVariants.passkey, strict), Type.Object(proofVariants.recentSignIn, strict)],
  { examples: [{ password: EXAMPLE_PASSWORD }, { recentSignIn: true }] },
);
