import { Type } from '@fastify/type-provider-typebox';

export const VerifyEmailBody = Type.Object({ token: Type.String({ minLength: 1, maxLength: 512 }) }, { additionalProperties: false });
export const ResendVerificationBody = Type.Object({ email: Type.String({ maxLength: 254 }) }, { additionalProperties: false });
export const AcceptedResponse = Type.Object({ message: Type.String() });

/** Moved to the transport layer (src/http/schemas.ts) so every capability can use it. */
export { errorResponses } from '../http/schemas.js';
