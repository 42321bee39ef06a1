import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { AppServices } from '../app-services.js';
import { PUBLIC, SIGNED_IN, requireAuth } from '../http/access.js';
import { AppError } from '../http/app-error.js';
import { requestMeta } from '../http/request-meta.js';
import { isUuid } from '../shared/pagination.js';
import { LoginBody, MeResponse, RefreshBody, SessionItem, SessionParams, SignupBody, TokenResponse } from './auth.schemas.js';
import type { UserPrincipal } from './principal.js';
import { Type } from '@fastify/type-provider-typebox';

function userPrincipal(request: FastifyRequest): UserPrincipal {
  const { principal } = requireAuth(request.auth);
  if (principal.kind !== 'user') throw new AppError('forbidden', 'This endpoint requires a signed-in user');
  return principal;
}

/** Accounts and sessions: /api/auth/* and the JWKS document. */
export const authRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  const { accounts, sessions, tokens, tenancy } = services;

  app.post('/api/auth/signup', {
    config: { access: PUBLIC },
    schema: { tags: ['auth'], body: SignupBody, response: { 201: TokenResponse } },
  }, async (request, reply) => {
    const result = await accounts.signup(request.body, requestMeta(request));
    return reply.code(201).send(result);
  });

  app.post('/api/auth/login', {
    config: { access: PUBLIC },
    schema: { tags: ['auth'], body: LoginBody, response: { 200: TokenResponse } },
  }, async (request) => accounts.login(request.body, requestMeta(request)));

  app.post('/api/auth/refresh', {
    config: { access: PUBLIC },
    schema: { tags: ['auth'], body: RefreshBody, response: { 200: TokenResponse } },
  }, async (request) => {
    // Per-IP budget of failed refreshes (ASVS 2.2.1); a success gives the point back.
    const ticket = await services.rateLimits.guard.begin({ scope: 'refresh', account: null, meta: requestMeta(request) });
    const issued = await sessions.refresh(request.body.refreshToken, requestMeta(request));
    await ticket.succeeded();
    const session = await sessions.find(issued.sessionId);
    const user = session ? await accounts.findProfile(session.userId) : null;
    if (!user) throw new AppError('invalid_token');
    return { user, ...issued };
  });

  app.post('/api/auth/logout', {
    config: { access: SIGNED_IN },
    schema: { tags: ['auth'] },
  }, async (request, reply) => {
    const principal = userPrincipal(request);
    await sessions.revoke(principal.sessionId, 'logout', requestMeta(request));
    services.events.emit('auth.logout', { userId: principal.userId, sessionId: principal.sessionId, meta: requestMeta(request) });
    return reply.code(204).send();
  });

  app.get('/api/auth/me', {
    config: { access: SIGNED_IN },
    schema: { tags: ['auth'], response: { 200: MeResponse } },
  }, async (request) => {
    const principal = userPrincipal(request);
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
    config: { access: SIGNED_IN },
    schema: { tags: ['auth'], response: { 200: Type.Object({ items: Type.Array(SessionItem) }) } },
  }, async (request) => {
    const principal = userPrincipal(request);
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
    config: { access: SIGNED_IN },
    schema: { tags: ['auth'], params: SessionParams },
  }, async (request, reply) => {
    const principal = userPrincipal(request);
    const target = isUuid(request.params.id) ? await sessions.find(request.params.id) : null;
    // Someone else's session id answers exactly like an unknown one.
    if (!target || target.userId !== principal.userId || target.revokedAt) throw new AppError('not_found', 'Session not found');
    await sessions.revoke(target.id, 'user_revoked', requestMeta(request));
    return reply.code(204).send();
  });

  app.get('/.well-known/jwks.json', {
    config: { access: PUBLIC },
    schema: { tags: ['auth'] },
  }, async (_request, reply) => {
    void reply.header('cache-control', 'public, max-age=300');
    return tokens.jwks();
  });
};
