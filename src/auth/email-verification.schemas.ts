import { Type } from '@fastify/type-provider-typebox';

export const VerifyEmailBody = Type.Object({ token: Type.String({ minLength: 1, maxLength: 512 }) }, { additionalProperties: false });
export const ResendVerificationBody = Type.Object({ email: Type.String({ maxLength: 254 }) }, { additionalProperties: false });
export const AcceptedResponse = Type.Object({ message: Type.String() });

/**
 * Error answers for the OpenAPI document: each status with the catalogue codes it can carry
 * (docs/errors.md), in the one error shape.
 */
export function errorResponses(codes: Record<number, readonly string[]>): Record<number, unknown> {
  return Object.fromEntries(
    Object.entries(codes).map(([status, list]) => [status, { description: list.join(', '), $ref: 'ErrorResponse#' }]),
  );
}
