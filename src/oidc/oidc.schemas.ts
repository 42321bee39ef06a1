import { Type } from '@fastify/type-provider-typebox';
import { IsoDate, Uuid } from '../http/schemas.js';

export const ProviderParams = Type.Object({ provider: Type.String({ maxLength: 64 }) }, { additionalProperties: false });
export const IdentityParams = Type.Object({ id: Type.String({ maxLength: 64 }) }, { additionalProperties: false });

/** No parameters: what the flow needs is stored server-side (ADR 0015). */
export const StartQuery = Type.Object({}, { additionalProperties: false });

/**
 * The authorization response (RFC 6749 §4.1.2 / §4.1.2.1, RFC 9207 `iss`, OIDC Session
 * `session_state`) plus the extras common providers append; anything else is refused.
 */
export const CallbackQuery = Type.Object(
  {
    code: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
    state: Type.Optional(Type.String({ maxLength: 512 })),
    iss: Type.Optional(Type.String({ maxLength: 2048 })),
    scope: Type.Optional(Type.String({ maxLength: 2048 })),
    session_state: Type.Optional(Type.String({ maxLength: 512 })),
    error: Type.Optional(Type.String({ maxLength: 256 })),
    error_description: Type.Optional(Type.String({ maxLength: 1024 })),
    error_uri: Type.Optional(Type.String({ maxLength: 2048 })),
    authuser: Type.Optional(Type.String({ maxLength: 64 })),
    prompt: Type.Optional(Type.String({ maxLength: 64 })),
    hd: Type.Optional(Type.String({ maxLength: 253 })),
  },
  { additionalProperties: false },
);

export const ExchangeBody = Type.Object(
  { code: Type.String({ minLength: 1, maxLength: 256 }) },
  { additionalProperties: false, examples: [{ code: 'olc_0b9f3c52-6a43-4f0e-9d4e-2f1a7c7e5b11.Qm9rYS1leGFtcGxlLWxvZ2luLWNvZGUtc2VjcmV0' }] },
);

export const ProvidersResponse = Type.Object({ items: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })) });

export const IdentityItem = Type.Object({
  id: Uuid,
  provider: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  createdAt: IsoDate,
  lastLoginAt: Type.Union([IsoDate, Type.Null()]),
});

export const IdentitiesResponse = Type.Object({ items: Type.Array(IdentityItem) });

export const Redirect = (description: string) => ({ description, type: 'null' });
