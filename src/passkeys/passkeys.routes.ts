import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PUBLIC, requireUser, SIGNED_IN } from '../access/index.js';
import type { AccountService } from '../auth/accounts.service.js';
import { SessionModeHeaders, TokenResponse } from '../auth/auth.schemas.js';
import { issueCookieSession, wantsCookieMode } from '../auth/cookie-session.js';
import type { Config } from '../config/config.js';
import { errorResponses } from '../http/schemas.js';
import { AppError } from '../errors/index.js';
import { requestMeta } from '../http/request-meta.js';
import type { IssuedTokens } from '../auth/sessions.service.js';
import type { PasskeyService } from './passkeys.service.js';
import {
  AuthenticateBody,
  CreationOptions,
  EmptyBody,
  PasskeyList,
  PasskeyParams,
  RegisterPasskeyBody,
  PasskeyItem,
  RequestOptions,
  SecondFactorOptionsBody,
  SecondFactorVerifyBody,
} from './passkeys.schemas.js';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';

/** What these routes use of the app's services. */
export interface PasskeyRouteDeps {
  readonly passkeys: PasskeyService;
  readonly accounts: Pick<AccountService, 'findProfile'>;
  readonly config: Pick<Config, 'session'>;
}


// The schemas are the bounded, strict form of the WebAuthn JSON types; the library reads them.
const asRegistration = (r: unknown) => r as RegistrationResponseJSON;
const asAssertion = (r: unknown) => r as AuthenticationResponseJSON;

/** Passkeys (W3C WebAuthn L2, ADR 0016): registration, list, removal, sign-in, MFA second factor. */
export const passkeyRoutes: FastifyPluginAsyncTypebox<{ services: PasskeyRouteDeps }> = async (app, { services }) => {
  const { passkeys, accounts } = services;

  /** Sign-in answers exactly like POST /api/auth/login, cookie mode included (ADR 0014). */
  async function tokenAnswer(request: FastifyRequest, reply: FastifyReply, { userId, ...tokens }: { userId: string } & IssuedTokens) {
    const user = await accounts.findProfile(userId);
    if (!user) throw new AppError('invalid_token');
    const result = { user, ...tokens };
    return wantsCookieMode(request) ? issueCookieSession(reply, result, services.config.session.absoluteLifetimeSeconds) : result;
  }

  app.post('/api/auth/passkeys/registration/options', {
    config: { access: SIGNED_IN, rateLimit: 'auth' },
    schema: {
      tags: ['passkeys'],
      operationId: 'createPasskeyRegistrationOptions',
      summary: 'Start adding a passkey: creation options for navigator.credentials.create (needs a sign-in within 10 minutes)',
      body: EmptyBody,
      response: { 200: CreationOptions, ...errorResponses({ 403: ['reauthentication_required'], 422: ['invalid_state'] }) },
    },
  }, async (request) => {
    const principal = requireUser(request.auth);
    return passkeys.registrationOptions(principal.userId, principal.sessionId);
  });

  app.post('/api/auth/passkeys/registration/verify', {
    config: { access: SIGNED_IN, rateLimit: 'auth' },
    schema: {
      tags: ['passkeys'],
      operationId: 'registerPasskey',
      summary: 'Finish adding a passkey: verify the attestation and store the credential',
      body: RegisterPasskeyBody,
      response: {
        201: PasskeyItem,
        ...errorResponses({ 400: ['validation_error'], 409: ['duplicate_resource'], 422: ['passkey_rejected', 'invalid_state'] }),
      },
    },
  }, async (request, reply) => {
    const principal = requireUser(request.auth);
    const created = await passkeys.register(principal.userId, { name: request.body.name.trim(), response: asRegistration(request.body.response) }, requestMeta(request));
    return reply.code(201).send(created);
  });

  app.get('/api/auth/passkeys', {
    config: { access: SIGNED_IN, rateLimit: 'auth' },
    schema: { tags: ['passkeys'], operationId: 'listPasskeys', summary: "List the signed-in user's passkeys", response: { 200: PasskeyList } },
  }, async (request) => ({ items: await passkeys.list(requireUser(request.auth).userId) }));

  app.delete('/api/auth/passkeys/:passkeyId', {
    config: { access: SIGNED_IN, rateLimit: 'auth' },
    schema: {
      tags: ['passkeys'],
      operationId: 'deletePasskey',
      summary: 'Remove one of your passkeys (not the last way to sign in)',
      params: PasskeyParams,
      response: errorResponses({ 404: ['not_found'], 422: ['invalid_state'] }),
    },
  }, async (request, reply) => {
    await passkeys.remove(requireUser(request.auth).userId, request.params.passkeyId, requestMeta(request));
    return reply.code(204).send();
  });

  app.post('/api/auth/passkeys/authentication/options', {
    config: { access: PUBLIC, rateLimit: 'auth' },
    schema: {
      tags: ['passkeys'],
      operationId: 'createPasskeySignInOptions',
      summary: 'Start a passwordless sign-in: usernameless request options for navigator.credentials.get',
      body: EmptyBody,
      response: { 200: RequestOptions, ...errorResponses({ 400: ['validation_error'] }) },
    },
  }, async () => passkeys.authenticationOptions());

  app.post('/api/auth/passkeys/authentication/verify', {
    config: { access: PUBLIC, rateLimit: 'auth' },
    schema: {
      tags: ['passkeys'],
      operationId: 'signInWithPasskey',
      summary: 'Finish a passwordless sign-in with a passkey assertion; answers like login',
      headers: SessionModeHeaders,
      body: AuthenticateBody,
      response: {
        200: TokenResponse,
        ...errorResponses({ 400: ['validation_error'], 401: ['invalid_token', 'invalid_credentials'], 403: ['account_disabled', 'csrf_rejected'], 429: ['quota_exceeded'] }),
      },
    },
  }, async (request, reply) => tokenAnswer(request, reply, await passkeys.authenticate(asAssertion(request.body.response), requestMeta(request))));

  app.post('/api/auth/passkeys/reauthentication/options', {
    config: { access: SIGNED_IN, rateLimit: 'auth' },
    schema: {
      tags: ['passkeys'],
      operationId: 'createPasskeyReauthenticationOptions',
      summary: "Request options to re-prove a passkey before a sensitive action (the user's passkeys listed)",
      body: EmptyBody,
      response: { 200: RequestOptions, ...errorResponses({ 422: ['invalid_state'] }) },
    },
  }, async (request) => passkeys.reauthenticationOptions(requireUser(request.auth).userId));

  app.post('/api/auth/mfa/passkey/options', {
    config: { access: PUBLIC, rateLimit: 'auth' },
    schema: {
      tags: ['mfa', 'passkeys'],
      operationId: 'createMfaPasskeyOptions',
      summary: 'Second step of an MFA login with a passkey: request options for the challenge user',
      body: SecondFactorOptionsBody,
      response: { 200: RequestOptions, ...errorResponses({ 400: ['validation_error'], 401: ['invalid_token'], 422: ['invalid_state'] }) },
    },
  }, async (request) => passkeys.secondFactorOptions(request.body.challengeToken));

  app.post('/api/auth/mfa/passkey/verify', {
    config: { access: PUBLIC, rateLimit: 'auth' },
    schema: {
      tags: ['mfa', 'passkeys'],
      operationId: 'verifyMfaPasskey',
      summary: 'Complete an MFA login with a passkey assertion instead of a TOTP code; answers like login',
      headers: SessionModeHeaders,
      body: SecondFactorVerifyBody,
      response: {
        200: TokenResponse,
        ...errorResponses({ 400: ['validation_error'], 401: ['invalid_token', 'invalid_credentials'], 403: ['account_disabled', 'csrf_rejected'], 429: ['quota_exceeded'] }),
      },
    },
  }, async (request, reply) =>
    tokenAnswer(request, reply, await passkeys.completeSecondFactor(request.body.challengeToken, asAssertion(request.body.response), requestMeta(request))));
};
