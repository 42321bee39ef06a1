import { Type } from '@fastify/type-provider-typebox';
import { AuthenticationResponse } from '../auth/webauthn.schemas.js';
import { IsoDate, Uuid } from '../http/schemas.js';

export { AuthenticationResponse };

/** Unpadded base64url (W3C WebAuthn L3 JSON serialisation), bounded. */
const B64 = (maxLength: number) => Type.String({ minLength: 1, maxLength, pattern: '^[A-Za-z0-9_-]+$' });
// §6.1: a credential id is at most 1023 bytes = 1364 base64url characters.
const CredentialId = B64(1364);
const Transport = Type.Union(['ble', 'cable', 'hybrid', 'internal', 'nfc', 'smart-card', 'usb'].map((t) => Type.Literal(t)));
const Transports = Type.Array(Transport, { maxItems: 7, uniqueItems: true });
// `toJSON()` of some browsers sends null when the attachment is unknown.
const Attachment = Type.Union([Type.Literal('platform'), Type.Literal('cross-platform'), Type.Null()]);
// Only credProps is ever answered to (we request no other extension).
const ExtensionResults = Type.Object(
  { credProps: Type.Optional(Type.Object({ rk: Type.Optional(Type.Boolean()) }, { additionalProperties: false })) },
  { additionalProperties: false },
);
const ChallengeToken = Type.String({ minLength: 1, maxLength: 512 });

/** RegistrationResponseJSON (what `PublicKeyCredential.toJSON()` gives after `create()`). */
export const RegistrationResponse = Type.Object(
  {
    id: CredentialId,
    rawId: CredentialId,
    type: Type.Literal('public-key'),
    response: Type.Object(
      {
        clientDataJSON: B64(4096),
        attestationObject: B64(16_384),
        transports: Type.Optional(Transports),
        authenticatorData: Type.Optional(B64(16_384)),
        publicKey: Type.Optional(B64(4096)),
        publicKeyAlgorithm: Type.Optional(Type.Integer({ minimum: -65_536, maximum: 65_535 })),
      },
      { additionalProperties: false },
    ),
    authenticatorAttachment: Type.Optional(Attachment),
    clientExtensionResults: ExtensionResults,
  },
  { additionalProperties: false },
);


const EXAMPLE_REGISTRATION = {
  name: 'Laptop',
  response: {
    id: 'q1eAlr6oHHKkT7Ex3PpNXQ',
    rawId: 'q1eAlr6oHHKkT7Ex3PpNXQ',
    type: 'public-key',
    response: { clientDataJSON: 'eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIn0', attestationObject: 'o2NmbXRkbm9uZQ', transports: ['internal'] },
    authenticatorAttachment: 'platform',
    clientExtensionResults: {},
  },
};
const EXAMPLE_ASSERTION = {
  id: 'q1eAlr6oHHKkT7Ex3PpNXQ',
  rawId: 'q1eAlr6oHHKkT7Ex3PpNXQ',
  type: 'public-key',
  response: { clientDataJSON: 'eyJ0eXBlIjoid2ViYXV0aG4uZ2V0In0', authenticatorData: 'SZYN5YgOjGh0NBcPZHZgW4', signature: 'MEUCIQ', userHandle: 'AZLk3X7Pe0ujvnYhp3mCZQ' },
  clientExtensionResults: {},
};

export const RegisterPasskeyBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }), response: RegistrationResponse },
  { additionalProperties: false, examples: [EXAMPLE_REGISTRATION] },
);
export const AuthenticateBody = Type.Object({ response: AuthenticationResponse }, { additionalProperties: false, examples: [{ response: EXAMPLE_ASSERTION }] });
export const EmptyBody = Type.Object({}, { additionalProperties: false, examples: [{}] });
export const SecondFactorOptionsBody = Type.Object(
  { challengeToken: ChallengeToken },
  { additionalProperties: false, examples: [{ challengeToken: 'mfa_0b9f6a52-0d5e-4c1e-9a44-1f2d3c4b5a69.secret' }] },
);
export const SecondFactorVerifyBody = Type.Object(
  { challengeToken: ChallengeToken, response: AuthenticationResponse },
  { additionalProperties: false, examples: [{ challengeToken: 'mfa_0b9f6a52-0d5e-4c1e-9a44-1f2d3c4b5a69.secret', response: EXAMPLE_ASSERTION }] },
);
export const PasskeyParams = Type.Object({ passkeyId: Uuid }, { additionalProperties: false });

const Descriptor = Type.Object({ id: Type.String(), type: Type.String(), transports: Type.Optional(Type.Array(Type.String())) });

/** PublicKeyCredentialCreationOptionsJSON (W3C WebAuthn L3 §5.1.4), for `navigator.credentials.create`. */
export const CreationOptions = Type.Object(
  {
    challenge: Type.String(),
    rp: Type.Object({ id: Type.Optional(Type.String()), name: Type.String() }),
    user: Type.Object({ id: Type.String(), name: Type.String(), displayName: Type.String() }),
    pubKeyCredParams: Type.Array(Type.Object({ type: Type.String(), alg: Type.Integer() })),
    timeout: Type.Optional(Type.Integer()),
    excludeCredentials: Type.Optional(Type.Array(Descriptor)),
    authenticatorSelection: Type.Optional(Type.Object({
      authenticatorAttachment: Type.Optional(Type.String()),
      residentKey: Type.Optional(Type.String()),
      requireResidentKey: Type.Optional(Type.Boolean()),
      userVerification: Type.Optional(Type.String()),
    })),
    attestation: Type.Optional(Type.String()),
    extensions: Type.Optional(Type.Object({ credProps: Type.Optional(Type.Boolean()) })),
    hints: Type.Optional(Type.Array(Type.String())),
  },
);

/** PublicKeyCredentialRequestOptionsJSON (§5.1.5), for `navigator.credentials.get`. */
export const RequestOptions = Type.Object({
  challenge: Type.String(),
  timeout: Type.Optional(Type.Integer()),
  rpId: Type.Optional(Type.String()),
  allowCredentials: Type.Optional(Type.Array(Descriptor)),
  userVerification: Type.Optional(Type.String()),
  hints: Type.Optional(Type.Array(Type.String())),
});

export const PasskeyItem = Type.Object({
  id: Uuid,
  name: Type.String(),
  createdAt: IsoDate,
  lastUsedAt: Type.Union([IsoDate, Type.Null()]),
  transports: Type.Array(Type.String()),
  backedUp: Type.Boolean(),
});
export const PasskeyList = Type.Object({ items: Type.Array(PasskeyItem) });
