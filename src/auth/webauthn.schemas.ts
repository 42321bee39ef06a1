import { Type } from '@fastify/type-provider-typebox';

/*
 * The WebAuthn assertion schema, shared by passkey sign-in (src/passkeys) and the account's
 * re-authentication proof (reauth.ts): the auth room holds it so both can use it.
 */

/** Unpadded base64url (W3C WebAuthn L3 JSON serialisation), bounded. */
const B64 = (maxLength: number) => Type.String({ minLength: 1, maxLength, pattern: '^[A-Za-z0-9_-]+$' });
// §6.1: a credential id is at most 1023 bytes = 1364 base64url characters.
const CredentialId = B64(1364);
// `toJSON()` of some browsers sends null when the attachment is unknown.
const Attachment = Type.Union([Type.Literal('platform'), Type.Literal('cross-platform'), Type.Null()]);
// Only credProps is ever answered to (no other extension is requested).
const ExtensionResults = Type.Object(
  { credProps: Type.Optional(Type.Object({ rk: Type.Optional(Type.Boolean()) }, { additionalProperties: false })) },
  { additionalProperties: false },
);

/** AuthenticationResponseJSON (what `PublicKeyCredential.toJSON()` gives after `get()`). */
export const AuthenticationResponse = Type.Object(
  {
    id: CredentialId,
    rawId: CredentialId,
    type: Type.Literal('public-key'),
    response: Type.Object(
      {
        clientDataJSON: B64(4096),
        authenticatorData: B64(4096),
        signature: B64(2048),
        // §5.4.3: a user handle is at most 64 bytes.
        userHandle: Type.Optional(B64(86)),
      },
      { additionalProperties: false },
    ),
    authenticatorAttachment: Type.Optional(Attachment),
    clientExtensionResults: ExtensionResults,
  },
  { additionalProperties: false },
);
