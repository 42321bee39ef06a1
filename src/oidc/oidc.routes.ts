import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { parseCookie, stringifySetCookie } from 'cookie';
import { PUBLIC, requireUser, SIGNED_IN } from '../access/index.js';
import type { AccountService } from '../auth/accounts.service.js';
import { SessionModeHeaders, TokenResponse } from '../auth/auth.schemas.js';
import { issueCookieSession, wantsCookieMode } from '../auth/cookie-session.js';
import type { Config } from '../config/config.js';
import { errorResponses } from '../auth/email-verification.schemas.js';
import { AppError } from '../errors/index.js';
import { requestMeta } from '../http/request-meta.js';
import { isUuid } from '../shared/ids.js';
import { FLOW_TTL_MS, type OidcService } from './oidc.service.js';
import {
  CallbackQuery, ExchangeBody, IdentitiesResponse, IdentityParams, ProviderParams, ProvidersResponse, Redirect, StartQuery,
} from './oidc.schemas.js';

/** What these routes use of the app's services. */
export interface OidcRouteDeps {
  readonly oidc: OidcService;
  readonly accounts: AccountService;
  readonly config: Pick<Config, 'session'>;
}


const bindingCookie = (providerId: string) => `boka_oidc_${providerId}`;

/** Sign in with OpenID Connect (ADR 0015) and the user's linked identities. */
export const oidcRoutes: FastifyPluginAsyncTypebox<{ services: OidcRouteDeps }> = async (app, { services }) => {
  const { oidc, accounts } = services;

  app.get('/api/auth/oidc/providers', {
    config: { access: PUBLIC, rateLimit: 'auth' },
    schema: { tags: ['oidc'], operationId: 'listOidcProviders', summary: 'List the OpenID providers users can sign in with', response: { 200: ProvidersResponse } },
  }, async () => ({ items: oidc.listProviders() }));

  // A browser navigation, answered with a redirect: the state, nonce and PKCE verifier stay in
  // the database, the browser only gets an HttpOnly cookie binding the flow to it.
  app.get('/api/auth/oidc/:provider/start', {
    config: { access: PUBLIC, rateLimit: 'auth' },
    schema: {
      tags: ['oidc'],
      operationId: 'startOidcSignIn',
      summary: 'Redirect the browser to the provider (authorization code + PKCE S256)',
      params: ProviderParams,
      querystring: StartQuery,
      response: {
        302: Redirect('To the provider\'s authorization endpoint; sets the flow\'s HttpOnly binding cookie'),
        ...errorResponses({ 404: ['not_found'], 424: ['oidc_provider_unavailable'] }),
      },
    },
  }, async (request, reply) => {
    const { location, binding, provider } = await oidc.start(request.params.provider, requestMeta(request));
    const callback = new URL(oidc.redirectUri(provider));
    void reply.header('set-cookie', stringifySetCookie({
      name: bindingCookie(provider.id),
      value: binding,
      path: callback.pathname,
      httpOnly: true,
      secure: callback.protocol === 'https:',
      sameSite: 'lax', // sent on the provider's top-level redirect back, not on cross-site subrequests
      maxAge: FLOW_TTL_MS / 1000,
    }));
    return reply.redirect(location, 302);
  });

  app.get('/api/auth/oidc/:provider/callback', {
    config: { access: PUBLIC, rateLimit: 'auth' },
    schema: {
      tags: ['oidc'],
      operationId: 'completeOidcSignIn',
      summary: 'Provider redirect target: verify state and code, then redirect to the app with a one-time login code',
      params: ProviderParams,
      querystring: CallbackQuery,
      response: {
        302: Redirect('To OIDC_APP_URL#login_code=…'),
        ...errorResponses({
          400: ['validation_error'],
          401: ['oidc_login_failed'],
          403: ['oidc_email_unverified', 'oidc_signup_disabled'],
          404: ['not_found'],
          409: ['duplicate_resource'],
          424: ['oidc_provider_unavailable'],
        }),
      },
    },
  }, async (request, reply) => {
    const name = bindingCookie(request.params.provider);
    const header = request.headers.cookie;
    const binding = header && header.length <= 8192 ? parseCookie(header)[name] : undefined;
    // The binding is single use like the state: cleared whatever happens next.
    const path = oidc.callbackPath(request.params.provider);
    if (path) void reply.header('set-cookie', stringifySetCookie({ name, value: '', path, maxAge: 0, httpOnly: true, sameSite: 'lax' }));
    const query = Object.fromEntries(Object.entries(request.query).filter((e): e is [string, string] => typeof e[1] === 'string'));
    const { location } = await oidc.callback(request.params.provider, query, binding, requestMeta(request));
    return reply.redirect(location, 302);
  });

  app.post('/api/auth/oidc/exchange', {
    config: { access: PUBLIC, rateLimit: 'auth' },
    schema: {
      tags: ['oidc'],
      operationId: 'exchangeOidcLoginCode',
      summary: 'Exchange the one-time login code for access and refresh tokens (cookie mode with X-Boka-Session: cookie)',
      headers: SessionModeHeaders,
      body: ExchangeBody,
      response: {
        200: TokenResponse,
        ...errorResponses({ 400: ['validation_error'], 401: ['invalid_token', 'mfa_required'], 403: ['account_disabled', 'csrf_rejected'] }),
      },
    },
  }, async (request, reply) => {
    const { userId, ...tokens } = await oidc.exchange(request.body.code, requestMeta(request));
    const user = await accounts.findProfile(userId);
    if (!user) throw new AppError('invalid_token');
    const result = { user, ...tokens };
    return wantsCookieMode(request) ? issueCookieSession(reply, result, services.config.session.absoluteLifetimeSeconds) : result;
  });

  app.get('/api/auth/me/identities', {
    config: { access: SIGNED_IN, rateLimit: 'auth' },
    schema: { tags: ['oidc'], operationId: 'listIdentities', summary: 'List the provider identities linked to the signed-in account', response: { 200: IdentitiesResponse } },
  }, async (request) => {
    const items = await oidc.listIdentities(requireUser(request.auth).userId);
    return {
      items: items.map((i) => ({ ...i, createdAt: i.createdAt.toISOString(), lastLoginAt: i.lastLoginAt ? i.lastLoginAt.toISOString() : null })),
    };
  });

  app.delete('/api/auth/me/identities/:id', {
    config: { access: SIGNED_IN, rateLimit: 'auth' },
    schema: {
      tags: ['oidc'],
      operationId: 'unlinkIdentity',
      summary: 'Unlink a provider identity unless it is the last way to sign in',
      params: IdentityParams,
      response: errorResponses({ 404: ['not_found'], 422: ['invalid_state'] }),
    },
  }, async (request, reply) => {
    const principal = requireUser(request.auth);
    if (!isUuid(request.params.id)) throw new AppError('not_found', 'Identity not found');
    await oidc.unlink(principal.userId, request.params.id, requestMeta(request));
    return reply.code(204).send();
  });
};
