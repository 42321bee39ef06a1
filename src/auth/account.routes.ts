import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { PUBLIC, requireUser, SIGNED_IN } from '../access/index.js';
import { requestMeta } from '../http/request-meta.js';
import { EMAIL_CHANGE_ANSWER, type AccountSelfService } from './account.service.js';
import { DeleteAccountBody, EmailChangeBody, EmailChangeConfirmBody, NoContent, ProfilePatch, ProfileResponse } from './account.schemas.js';
import { AcceptedResponse, errorResponses } from './email-verification.schemas.js';

/** What these routes use of the app's services. */
export interface AccountRouteDeps {
  readonly accountSelfService: AccountSelfService;
}


/** Account self-service: PATCH/DELETE /api/auth/me, email change (ADR 0021). */
export const accountRoutes: FastifyPluginAsyncTypebox<{ services: AccountRouteDeps }> = async (app, { services }) => {
  const { accountSelfService: account } = services;

  app.patch('/api/auth/me', {
    config: { access: SIGNED_IN, rateLimit: 'auth' },
    schema: {
      tags: ['auth'],
      operationId: 'updateProfile',
      summary: 'Change the display name of the signed-in account',
      body: ProfilePatch,
      response: { 200: ProfileResponse, ...errorResponses({ 400: ['validation_error'] }) },
    },
  }, async (request) => {
    const principal = requireUser(request.auth);
    return { user: await account.updateProfile(principal.userId, request.body, requestMeta(request)) };
  });

  // Re-authentication (ASVS 4.0.3 3.7.1); the answer does not tell whether the address is free.
  app.post('/api/auth/me/email', {
    config: { access: SIGNED_IN, rateLimit: 'auth' },
    schema: {
      tags: ['auth'],
      operationId: 'changeEmail',
      summary: 'Ask to change the account email; a confirmation link goes to the new address',
      body: EmailChangeBody,
      response: {
        202: AcceptedResponse,
        ...errorResponses({ 400: ['validation_error'], 401: ['invalid_credentials'], 403: ['reauthentication_required'], 429: ['quota_exceeded'] }),
      },
    },
  }, async (request, reply) => {
    const principal = requireUser(request.auth);
    await account.requestEmailChange({ userId: principal.userId, sessionId: principal.sessionId }, request.body, requestMeta(request));
    return reply.code(202).send(EMAIL_CHANGE_ANSWER);
  });

  // POST from the page the mail links to (token in the fragment, never in a logged URL), not a
  // GET landing that mail scanners would follow; the link alone authorizes (any device).
  app.post('/api/auth/me/email/confirm', {
    config: { access: PUBLIC, rateLimit: 'auth' },
    schema: {
      tags: ['auth'],
      operationId: 'confirmEmailChange',
      summary: 'Confirm an email change with the link sent to the new address',
      body: EmailChangeConfirmBody,
      response: { 204: NoContent, ...errorResponses({ 400: ['validation_error'], 401: ['invalid_token'], 409: ['duplicate_resource'], 429: ['quota_exceeded'] }) },
    },
  }, async (request, reply) => {
    await account.confirmEmailChange(request.body.token, requestMeta(request));
    return reply.code(204).send();
  });

  app.delete('/api/auth/me', {
    config: { access: SIGNED_IN, rateLimit: 'auth' },
    schema: {
      tags: ['auth'],
      operationId: 'deleteAccount',
      summary: 'Delete the signed-in account (anonymised; sessions and memberships end)',
      body: DeleteAccountBody,
      response: {
        204: NoContent,
        ...errorResponses({ 400: ['validation_error'], 401: ['invalid_credentials'], 403: ['reauthentication_required'], 422: ['last_owner', 'invalid_state'], 429: ['quota_exceeded'] }),
      },
    },
  }, async (request, reply) => {
    const principal = requireUser(request.auth);
    await account.deleteAccount({ userId: principal.userId, sessionId: principal.sessionId }, request.body, requestMeta(request));
    return reply.code(204).send();
  });
};
