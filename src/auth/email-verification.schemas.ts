import { Type } from '@fastify/type-provider-typebox';

export const VerifyEmailBody = Type.Object({ token: Type.String({ minLength: 1, maxLength: 512 }) }, { additionalProperties: false, examples: [{ token: 'ev_3f6c2a4e-8d1b-4c7a-9e2f-5b8a1d0c7e41.q8J3kV0mZf5xR2nL7pW9sT4yB6cH1dE0gA3uI8oK2rM' }] });
export const ResendVerificationBody = Type.Object({ email: Type.String({ maxLength: 254 }) }, { additionalProperties: false, examples: [{ email: 'ada@example.com' }] });
export const AcceptedResponse = Type.Object({ message: Type.String() });

/** Moved to the transport layer (src/http/schemas.ts) so every capability can use it. */
export { errorResponses } from '../http/schemas.js';
