import { Type } from '@fastify/type-provider-typebox';
import { Email, IsoDate, Uuid } from '../http/schemas.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './password.js';

export const Password = Type.String({ minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH });

const PublicUserSchema = Type.Object({ id: Uuid, email: Type.String(), name: Type.String(), emailVerified: Type.Boolean() });

export const SignupBody = Type.Object(
  { email: Email, password: Password, name: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false, examples: [{ email: 'ada@example.com', password: 'plum-tuesday-kettle-42', name: 'Ada Lovelace' }] },
);

// No length rules on login: an over-long or short password is just a wrong password.
export const LoginBody = Type.Object(
  { email: Type.String({ maxLength: 254 }), password: Type.String({ maxLength: 1024 }) },
  { additionalProperties: false, examples: [{ email: 'ada@example.com', password: 'plum-tuesday-kettle-42' }] },
);

export const RefreshBody = Type.Object(
  {
    refreshToken: Type.Optional(Type.String({ maxLength: 512, description: 'Bearer mode; in cookie mode send `{}` and the browser sends the session cookie' })),
  },
  { additionalProperties: false, examples: [{ refreshToken: 'rt_3f6c2a4e-8d1b-4c7a-9e2f-5b8a1d0c7e41.q8J3kV0mZf5xR2nL7pW9sT4yB6cH1dE0gA3uI8oK2rM' }, {}] },
);

/** `X-Boka-Session`: `cookie` asks for cookie mode on a sign-in (ADR 0014); `bearer` is the default. */
export const SessionModeHeaders = Type.Object({
  'x-boka-session': Type.Optional(Type.Union([Type.Literal('cookie'), Type.Literal('bearer')], {
    description: 'cookie: the refresh token is set as an HttpOnly cookie scoped to /api/auth/refresh and left out of the body',
  })),
});

export const TokenResponse = Type.Object({
  user: PublicUserSchema,
  accessToken: Type.String(),
  refreshToken: Type.Optional(Type.String({ description: 'Absent in cookie mode (ADR 0014): the token is in the HttpOnly session cookie' })),
  expiresIn: Type.Integer(),
  sessionId: Uuid,
});

export const MeResponse = Type.Object({
  user: PublicUserSchema,
  memberships: Type.Array(Type.Object({ tenantId: Uuid, tenantSlug: Type.String(), role: Type.String() })),
  session: Type.Object({ id: Uuid, createdAt: IsoDate, expiresAt: IsoDate }),
});

export const SessionItem = Type.Object({
  id: Uuid,
  createdAt: IsoDate,
  lastSeenAt: IsoDate,
  ip: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  current: Type.Boolean(),
});

export const SessionParams = Type.Object({ id: Type.String({ maxLength: 64 }) }, { additionalProperties: false });

/** A JSON Web Key Set (RFC 7517 §5) of public signing keys; members beyond these pass through. */
export const JwksResponse = Type.Object({
  keys: Type.Array(
    Type.Object(
      {
        kty: Type.Optional(Type.String()),
        kid: Type.Optional(Type.String()),
        alg: Type.Optional(Type.String()),
        use: Type.Optional(Type.String()),
        crv: Type.Optional(Type.String()),
        x: Type.Optional(Type.String()),
        y: Type.Optional(Type.String()),
      },
      { additionalProperties: true },
    ),
  ),
});
