import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { REGISTER_ANSWER, type AccountService } from './accounts.service.js';
import type { Config } from '../config/config.js';
import { AcceptedResponse, errorResponses } from './email-verification.schemas.js';
import type { SessionService } from './sessions.service.js';
import type { AccessTokenService } from './access-tokens.service.js';
import type { TenancyService } from '../tenancy/tenancy.service.js';
import type { RateLimits } from '../rate-limit/index.js';
import { PUBLIC, requireUser, SIGNED_IN } from '../access/index.js';
import { AppError } from '../errors/index.js';
import { requestMeta } from '../http/request-meta.js';
import { isUuid } from '../shared/ids.js';
import { JwksResponse, LoginBody, MeResponse, RefreshBody, SessionItem, SessionModeHeaders, SessionParams, SignupBody, TokenResponse } from './auth.schemas.js';
import { clearCookieSession, issueCookieSession, readRefreshCookie, wantsCookieMode } from './cookie-session.js';
import { Type } from '@fastify/type-provider-typebox';
import { NoContent } from '../http/schemas.js';

/** What these routes use of the app's services. */
export interface AuthRouteDeps {
  readonly accounts: AccountService;
  readonly sessions: SessionService;
  readonly tokens: AccessTokenService;
  readonly tenancy: TenancyService;
  readonly rateLimits: RateLimits;
  readonly config: Pick<Config, 'auth' | 'session'>;
}



/** Accounts and sessions: /api/auth/* and the JWKS document. */
export const authRoutes: FastifyPluginAsyncTypebox<{ services: AuthRouteDeps }> = async (app, { services }) => {
  const { accounts, sessions, tokens, tenancy } = services;
  const cookieMaxAge = services.config.session.absoluteLifetimeSeconds;

  // One operation whatever the mode, so the document (and the generated client) does not depend
  // on AUTH_SIGNUP_MODE.
  const signupSchema = {
    tags: ['auth'],
    operationId: 'signUp',
    summary: 'Create an account',
    description: 'AUTH_SIGNUP_MODE=open: 201 with tokens, 409 on a taken address. AUTH_SIGNUP_MODE=verify (ADR 0013): 202 alike for new and taken addresses, no tokens; the address is verified by mail.',
    headers: SessionModeHeaders,
    body: SignupBody,
    response: {
      201: TokenResponse,
      202: AcceptedResponse,
      ...errorResponses({ 400: ['validation_error'], 403: ['csrf_rejected'], 409: ['duplicate_resource'], 429: ['quota_exceeded'] }),
    },
  };

  // ADR 0013: `verify` answers 202 alike for new and taken addresses, and issues no tokens;
  // `open` answers 201 with tokens, 409 on a taken address.
  if (services.config.auth.signupMode === 'verify') {
    app.post('/api/auth/signup', {
      config: { access: PUBLIC, rateLimit: 'auth' },
      schema: signupSchema,
    }, async (request, reply) => {
      await accounts.register(request.body, requestMeta(request));
      return reply.code(202).send(REGISTER_ANSWER);
    });
  } else {
    app.post('/api/auth/signup', {
      config: { access: PUBLIC, rateLimit: 'auth' },
      schema: signupSchema,
    }, async (request, reply) => {
      const result = await accounts.signup(request.body, requestMeta(request));
      return reply.code(201).send(wantsCookieMode(request) ? issueCookieSession(reply, result, cookieMaxAge) : result);
    });
  }

  app.post('/api/auth/login', {
    config: { access: PUBLIC, rateLimit: 'auth' },
    schema: {
      tags: ['auth'], operationId: 'logIn', summary: 'Sign in with email and password (bearer mode, or cookie mode with X-Boka-Session: cookie)',
      headers: SessionModeHeaders,
      body: LoginBody,
      response: {
        200: TokenResponse,
        ...errorResponses({
          400: ['validation_error'], 401: ['invalid_credentials', 'mfa_required'], 403: ['email_not_verified', 'csrf_rejected'], 429: ['quota_exceeded'],
        }),
      },
    },
  }, async (request, reply) => {
    const result = await accounts.login(request.body, requestMeta(request));
    return wantsCookieMode(request) ? issueCookieSession(reply, result, cookieMaxAge) : result;
  });

  app.post('/api/auth/refresh', {
    config: { access: PUBLIC, rateLimit: 'auth' },
    schema: {
      tags: ['auth'],
      operationId: 'refreshSession',
      summary: 'Rotate the refresh token: from the body (bearer mode) or the session cookie (cookie mode)',
      body: RefreshBody,
      response: { 200: TokenResponse, ...errorResponses({ 400: ['validation_error'], 401: ['invalid_token'], 403: ['csrf_rejected'], 429: ['quota_exceeded'] }) },
    },
  }, async (request, reply) => {
    // Bearer mode when the body holds a token, else cookie mode (the CSRF step has already
    // checked the Origin of a request carrying the cookie).
    const fromCookie = request.body.refreshToken === undefined ? readRefreshCookie(request) : undefined;
    const refreshToken = request.body.refreshToken ?? fromCookie;
    if (refreshToken === undefined) throw new AppError('invalid_token', 'No refresh token: send refreshToken, or the session cookie in cookie mode');
    try {
      // Per-IP budget of failed refreshes (ASVS 2.2.1); a success gives the point back.
      const ticket = await services.rateLimits.guard.begin({ scope: 'refresh', account: null, meta: requestMeta(request) });
      const issued = await sessions.refresh(refreshToken, requestMeta(request));
      await ticket.succeeded();
      const session = await sessions.find(issued.sessionId);
      const user = session ? await accounts.findProfile(session.userId) : null;
      if (!user) throw new AppError('invalid_token');
      return fromCookie === undefined ? { user, ...issued } : issueCookieSession(reply, { user, ...issued }, cookieMaxAge);
    } catch (err) {
      // A cookie that no longer refreshes (reused, revoked, expired) is dropped from the browser.
      if (fromCookie !== undefined && err instanceof AppError && err.code === 'invalid_token') clearCookieSession(reply);
      throw err;
    }
  });

  app.post('/api/auth/logout', {
    config: { access: SIGNED_IN, rateLimit: 'auth' },
    schema: { tags: ['auth'], operationId: 'logOut', summary: 'End the current session and clear the session cookie', response: { 204: NoContent } },
  }, async (request, reply) => {
    const principal = requireUser(request.auth);
    await sessions.logout(principal.userId, principal.sessionId, requestMeta(request));
    // Bearer-authenticated (never by the cookie, so no CSRF exposure); clears cookie mode's cookie alike.
    clearCookieSession(reply);
    return reply.code(204).send();
  });

  app.get('/api/auth/me', {
    config: { access: SIGNED_IN, rateLimit: 'auth' },
    schema: { tags: ['auth'], operationId: 'getMe', summary: 'The signed-in user, their memberships and session', response: { 200: MeResponse } },
  }, async (request) => {
    const principal = requireUser(request.auth);
    // Served from the caches on a warm instance: no database read.
    const [user, session, memberships] = await Promise.all([
      accounts.findProfile(principal.userId),
      sessions.describe(principal.sessionId),
      tenancy.listMembershipsOf(principal.userId),
    ]);
    if (!user || !session) throw new AppError('invalid_token');
    return {
      user,
      memberships,
      session: { id: session.id, createdAt: session.createdAt.toISOString(), expiresAt: session.expiresAt.toISOString() },
    };
  });

  app.get('/api/auth/sessions', {
    config: { access: SIGNED_IN, rateLimit: 'auth' },
    schema: { tags: ['auth'], operationId: 'listSessions', summary: "List the signed-in user's live sessions", response: { 200: Type.Object({ items: Type.Array(SessionItem) }) } },
  }, async (request) => {
    const principal = requireUser(request.auth);
    const live = await sessions.listLive(principal.userId);
    return {
      items: live.map((s) => ({
        id: s.id,
        createdAt: s.createdAt.toISOString(),
        lastSeenAt: s.lastSeenAt.toISOString(),
        ip: s.ip,
        userAgent: s.userAgent,
        current: s.id === principal.sessionId,
      })),
    };
  });

  // ASVS 3.3.4: a user can see and terminate their own sessions.
  app.delete('/api/auth/sessions/:id', {
    config: { access: SIGNED_IN, rateLimit: 'auth' },
    schema: { tags: ['auth'], operationId: 'revokeSession', summary: 'Revoke one of your own sessions', response: { 204: NoContent }, params: SessionParams },
  }, async (request, reply) => {
    const principal = requireUser(request.auth);
    const target = isUuid(request.params.id) ? await sessions.find(request.params.id) : null;
    // Someone else's session id answers exactly like an unknown one.
    if (!target || target.userId !== principal.userId || target.revokedAt) throw new AppError('not_found', 'Session not found');
    await sessions.revoke(target.id, 'user_revoked', requestMeta(request));
    return reply.code(204).send();
  });

  app.get('/.well-known/jwks.json', {
    config: { access: PUBLIC },
    schema: { tags: ['auth'], operationId: 'getJwks', summary: 'The public keys that verify access tokens (JWKS, RFC 7517)', response: { 200: JwksResponse } },
  }, async (_request, reply) => {
    void reply.header('cache-control', 'public, max-age=300');
    return tokens.jwks();
  });
};
