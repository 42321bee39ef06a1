import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PUBLIC } from '../access/index.js';
import { requestMeta } from '../http/request-meta.js';
import type { EmailVerification } from './email-verification.service.js';
import { AcceptedResponse, errorResponses, ResendVerificationBody, VerifyEmailBody } from './email-verification.schemas.js';
import { NoContent } from '../http/schemas.js';

/** What these routes use of the app's services. */
export interface EmailVerificationRouteDeps {
  readonly emailVerification: EmailVerification;
}

const RESEND_ANSWER = { message: 'If this address has an account waiting for verification, we sent it a new link.' } as const;

/** /api/auth/verify-email and /verify-email/resend (ADR 0013). */
export const emailVerificationRoutes: FastifyPluginAsyncTypebox<{ services: EmailVerificationRouteDeps }> = async (app, { services }) => {
  const { emailVerification } = services;

  // POST, not a GET landing: mail scanners follow GET links, and the token travels in the
  // fragment of the page the mail links to, never in a URL a server logs.
  app.post('/api/auth/verify-email', {
    config: { access: PUBLIC, rateLimit: 'auth' },
    schema: {
      tags: ['auth'], operationId: 'verifyEmail', summary: 'Verify an email address with the mailed token',
      body: VerifyEmailBody,
      response: { 204: NoContent, ...errorResponses({ 400: ['validation_error'], 401: ['invalid_token'], 429: ['quota_exceeded'] }) },
    },
  }, async (request, reply) => {
    await emailVerification.verify(request.body.token, requestMeta(request));
    return reply.code(204).send();
  });

  app.post('/api/auth/verify-email/resend', {
    config: { access: PUBLIC, rateLimit: 'auth' },
    schema: {
      tags: ['auth'], operationId: 'resendVerificationEmail', summary: 'Send a new verification mail',
      body: ResendVerificationBody,
      response: { 202: AcceptedResponse, ...errorResponses({ 400: ['validation_error'], 429: ['quota_exceeded'] }) },
    },
  }, async (request, reply) => {
    await emailVerification.resend(request.body.email, requestMeta(request));
    return reply.code(202).send(RESEND_ANSWER);
  });
};
