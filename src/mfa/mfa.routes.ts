import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { MfaService } from './mfa.service.js';
import type { AccountService } from '../auth/accounts.service.js';
import { SessionModeHeaders, TokenResponse } from '../auth/auth.schemas.js';
import { issueCookieSession, wantsCookieMode } from '../auth/cookie-session.js';
import type { Config } from '../config/config.js';
import { PUBLIC, requireUser, SIGNED_IN } from '../access/index.js';
import { AppError } from '../errors/index.js';
import { requestMeta } from '../http/request-meta.js';
import { BackupCodesResponse, CodeBody, DisableBody, TotpSetupResponse, VerifyBody } from './mfa.schemas.js';
import { NoContent, errorResponses } from '../http/schemas.js';

/** What these routes use of the app's services. */
export interface MfaRouteDeps {
  readonly mfa: MfaService;
  readonly accounts: AccountService;
  readonly config: Pick<Config, 'session'>;
}



/** TOTP enrolment, backup codes, and the second step of an MFA login. */
export const mfaRoutes: FastifyPluginAsyncTypebox<{ services: MfaRouteDeps }> = async (app, { services }) => {
  const { mfa, accounts } = services;

  app.post('/api/auth/mfa/totp/setup', {
    config: { access: SIGNED_IN, rateLimit: 'auth' },
    schema: { tags: ['mfa'], operationId: 'setUpTotp', summary: 'Start TOTP enrolment: a new secret and its QR code', response: { ...errorResponses({ 422: ['invalid_state'] }), 200: TotpSetupResponse } },
  }, async (request) => mfa.setup(requireUser(request.auth).userId));

  app.post('/api/auth/mfa/totp/enable', {
    config: { access: SIGNED_IN, rateLimit: 'auth' },
    schema: { tags: ['mfa'], operationId: 'enableTotp', summary: 'Confirm TOTP enrolment with a first code; returns backup codes', body: CodeBody, response: { ...errorResponses({ 401: ['invalid_credentials'], 422: ['invalid_state'] }), 200: BackupCodesResponse } },
  }, async (request) => {
    const principal = requireUser(request.auth);
    return mfa.enable(principal.userId, request.body.code, requestMeta(request), principal.sessionId);
  });

  app.post('/api/auth/mfa/totp/disable', {
    config: { access: SIGNED_IN, rateLimit: 'auth' },
    schema: { tags: ['mfa'], operationId: 'disableTotp', summary: 'Turn MFA off with a code or the password', response: { 204: NoContent, ...errorResponses({ 401: ['invalid_credentials'], 422: ['invalid_state'] }) }, body: DisableBody },
  }, async (request, reply) => {
    await mfa.disable(requireUser(request.auth).userId, request.body, requestMeta(request));
    return reply.code(204).send();
  });

  app.post('/api/auth/mfa/backup-codes', {
    config: { access: SIGNED_IN, rateLimit: 'auth' },
    schema: { tags: ['mfa'], operationId: 'regenerateBackupCodes', summary: 'Replace the backup codes', body: DisableBody, response: { ...errorResponses({ 401: ['invalid_credentials'], 422: ['invalid_state'] }), 200: BackupCodesResponse } },
  }, async (request) => mfa.regenerateBackupCodes(requireUser(request.auth).userId, request.body, requestMeta(request)));

  app.post('/api/auth/mfa/verify', {
    config: { access: PUBLIC, rateLimit: 'auth' },
    // Cookie mode (ADR 0014) as on login: the second step is where the session is issued.
    schema: { tags: ['mfa'], operationId: 'verifyMfa', summary: 'Complete an MFA login with the challenge token and a code', headers: SessionModeHeaders, body: VerifyBody, response: { ...errorResponses({ 401: ['invalid_token', 'invalid_credentials'], 403: ['csrf_rejected'] }), 200: TokenResponse } },
  }, async (request, reply) => {
    const { userId, ...tokens } = await mfa.verifyChallenge(request.body.challengeToken, request.body.code, requestMeta(request));
    const user = await accounts.findProfile(userId);
    if (!user) throw new AppError('invalid_token');
    const result = { user, ...tokens };
    return wantsCookieMode(request) ? issueCookieSession(reply, result, services.config.session.absoluteLifetimeSeconds) : result;
  });
};
