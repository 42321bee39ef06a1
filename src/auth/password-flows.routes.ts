import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppServices } from '../app-services.js';
import { PUBLIC, SIGNED_IN, requireAuth } from '../http/access.js';
import { AppError } from '../http/app-error.js';
import { requestMeta } from '../http/request-meta.js';
import { ChangePasswordBody, ForgotPasswordBody, ResetPasswordBody } from './password-flows.schemas.js';

/** /api/auth/password, /password/forgot, /password/reset. */
export const passwordFlowRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  const { passwords } = services;

  app.post('/api/auth/password', {
    config: { access: SIGNED_IN },
    schema: { tags: ['auth'], body: ChangePasswordBody },
  }, async (request, reply) => {
    const { principal } = requireAuth(request.auth);
    if (principal.kind !== 'user') throw new AppError('forbidden');
    await passwords.change(principal.userId, principal.sessionId, request.body, requestMeta(request));
    return reply.code(204).send();
  });

  app.post('/api/auth/password/forgot', {
    config: { access: PUBLIC },
    schema: { tags: ['auth'], body: ForgotPasswordBody },
  }, async (request, reply) => {
    await passwords.forgot(request.body.email, requestMeta(request));
    return reply.code(202).send({ message: 'If an account exists for this address, we sent a link to reset the password.' });
  });

  app.post('/api/auth/password/reset', {
    config: { access: PUBLIC },
    schema: { tags: ['auth'], body: ResetPasswordBody },
  }, async (request, reply) => {
    await passwords.reset(request.body.token, request.body.newPassword, requestMeta(request));
    return reply.code(204).send();
  });
};
