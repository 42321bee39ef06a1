import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { PasswordFlows } from './password-flows.service.js';
import { PUBLIC, requireAuth, SIGNED_IN } from '../access/index.js';
import { AppError } from '../errors/index.js';
import { requestMeta } from '../http/request-meta.js';
import { AcceptedResponse } from './email-verification.schemas.js';
import { ChangePasswordBody, ForgotPasswordBody, ResetPasswordBody } from './password-flows.schemas.js';
import { NoContent, errorResponses } from '../http/schemas.js';

/** What these routes use of the app's services. */
export interface PasswordRouteDeps {
  readonly passwords: PasswordFlows;
}


/** /api/auth/password, /password/forgot, /password/reset. */
export const passwordFlowRoutes: FastifyPluginAsyncTypebox<{ services: PasswordRouteDeps }> = async (app, { services }) => {
  const { passwords } = services;

  app.post('/api/auth/password', {
    config: { access: SIGNED_IN, rateLimit: 'auth' },
    schema: { tags: ['auth'], operationId: 'changePassword', summary: "Change the signed-in user's password (ends their other sessions)", response: { 204: NoContent, ...errorResponses({ 401: ['invalid_credentials'] }) }, body: ChangePasswordBody },
  }, async (request, reply) => {
    const { principal } = requireAuth(request.auth);
    if (principal.kind !== 'user') throw new AppError('forbidden');
    await passwords.change(principal.userId, principal.sessionId, request.body, requestMeta(request));
    return reply.code(204).send();
  });

  app.post('/api/auth/password/forgot', {
    config: { access: PUBLIC, rateLimit: 'auth' },
    schema: { tags: ['auth'], operationId: 'requestPasswordReset', summary: 'Ask for a password-reset mail', body: ForgotPasswordBody, response: { 202: AcceptedResponse } },
  }, async (request, reply) => {
    await passwords.forgot(request.body.email, requestMeta(request));
    return reply.code(202).send({ message: 'If an account exists for this address, we sent a link to reset the password.' });
  });

  app.post('/api/auth/password/reset', {
    config: { access: PUBLIC, rateLimit: 'auth' },
    schema: { tags: ['auth'], operationId: 'resetPassword', summary: 'Set a new password with the mailed reset token', response: { 204: NoContent, ...errorResponses({ 401: ['invalid_token'] }) }, body: ResetPasswordBody },
  }, async (request, reply) => {
    await passwords.reset(request.body.token, request.body.newPassword, requestMeta(request));
    return reply.code(204).send();
  });
};
