import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { MfaService } from './mfa.service.js';
import type { AccountService } from '../auth/accounts.service.js';
import { SessionModeHeaders, TokenResponse } from '../auth/auth.schemas.js';
import { issueCookieSession, wantsCookieMode } from '../auth/cookie-session.js';
import type { Config } from '../config/config.js';
import { PUBLIC, requireAuth, SIGNED_IN, type UserPrincipal } from '../access/index.js';
import { AppError } from '../errors/index.js';
import { requestMeta } from '../http/request-meta.js';
import { BackupCodesResponse, CodeBody, DisableBody, TotpSetupResponse, VerifyBody } from './mfa.schemas.js';

/** What these routes use of the app's services. */
export interface MfaRouteDeps {
  readonly mfa: MfaService;
  readonly accounts: AccountService;
  readonly config: Pick<Config, 'session'>;
}


function userPrincipal(request: FastifyRequest): UserPrincipal {
  const { principal } = requireAuth(request.auth);
  if (principal.kind !== 'user') throw new AppError('forbidden', 'This endpoint requires a signed-in user');
  return principal;
}

/** TOTP enrolment, backup codes, and the second step of an MFA login. */
export const mfaRoutes: FastifyPluginAsyncTypebox<{ services: MfaRouteDeps }> = async (app, { services }) => {
  const { mfa, accounts } = services;

  app.post('/api/auth/mfa/totp/setup', {
    config: { access: SIGNED_IN, rateLimit: 'auth' },
    schema: { tags: ['mfa'], response: { 200: TotpSetupResponse } },
  }, async (request) => mfa.setup(userPrincipal(request).userId));

  app.post('/api/auth/mfa/totp/enable', {
    config: { access: SIGNED_IN, rateLimit: 'auth' },
    schema: { tags: ['mfa'], body: CodeBody, response: { 200: BackupCodesResponse } },
  }, async (request) => {
    const principal = userPrincipal(request);
    return mfa.enable(principal.userId, request.body.code, requestMeta(request), principal.sessionId);
  });

  app.post('/api/auth/mfa/totp/disable', {
    config: { access: SIGNED_IN, rateLimit: 'auth' },
    schema: { tags: ['mfa'], body: DisableBody },
  }, async (request, reply) => {
    await mfa.disable(userPrincipal(request).userId, request.body, requestMeta(request));
    return reply.code(204).send();
  });

  app.post('/api/auth/mfa/backup-codes', {
    config: { access: SIGNED_IN, rateLimit: 'auth' },
    schema: { tags: ['mfa'], body: DisableBody, response: { 200: BackupCodesResponse } },
  }, async (request) => mfa.regenerateBackupCodes(userPrincipal(request).userId, request.body, requestMeta(request)));

  app.post('/api/auth/mfa/verify', {
    config: { access: PUBLIC, rateLimit: 'auth' },
    // Cookie mode (ADR 0014) as on login: the second step is where the session is issued.
    schema: { tags: ['mfa'], headers: SessionModeHeaders, body: VerifyBody, response: { 200: TokenResponse } },
  }, async (request, reply) => {
    const { userId, ...tokens } = await mfa.verifyChallenge(request.body.challengeToken, request.body.code, requestMeta(request));
    const user = await accounts.findProfile(userId);
    if (!user) throw new AppError('invalid_token');
    const result = { user, ...tokens };
    return wantsCookieMode(request) ? issueCookieSession(reply, result, services.config.session.absoluteLifetimeSeconds) : result;
  });
};
