import * as client from 'openid-client';
import type { OidcProviderConfig } from '../config/config.js';
import { AppError } from '../errors/index.js';
import type { Clock } from '../shared/clock.js';

/**
 * Port to an OpenID provider: build the authorization request, and turn the callback into
 * verified claims. The implementation below is openid-client v6 (authorization code + PKCE,
 * ID token signature, `iss`, `aud`, `exp`, `nonce` and the RFC 9207 `iss` response parameter
 * checked by the library, not by us).
 */
export interface OidcClient {
  authorizationUrl(provider: OidcProviderConfig, request: { redirectUri: string; state: string; nonce: string; codeChallenge: string }): Promise<URL>;
  /** `callbackUrl` is our redirect URI with the query the provider sent; checks per RFC 6749 §10.12, RFC 7636 §4.5, OIDC Core §3.1.3.7. */
  exchange(provider: OidcProviderConfig, callbackUrl: URL, checks: { state: string; nonce: string; verifier: string }): Promise<{ subject: string; claims: Record<string, unknown> }>;
}

/** After a failed discovery, callers fail fast for this long instead of each waiting for the timeout. */
const DISCOVERY_RETRY_MS = 10_000;

export function createOidcClient(opts: {
  clock: Clock;
  timeoutMs: number;
  /** `http://` issuers (a local test provider); never in production. */
  allowHttp: boolean;
  onError?: (providerId: string, stage: string, err: unknown) => void;
}): OidcClient {
  const configs = new Map<string, Promise<client.Configuration>>();
  const failedAt = new Map<string, number>();

  const unavailable = (provider: OidcProviderConfig, stage: string, err: unknown) => {
    opts.onError?.(provider.id, stage, err);
    return new AppError('oidc_provider_unavailable', undefined, { provider: provider.id });
  };

  async function configuration(provider: OidcProviderConfig): Promise<client.Configuration> {
    const failed = failedAt.get(provider.id);
    if (failed !== undefined && opts.clock.now() - failed < DISCOVERY_RETRY_MS) {
      throw new AppError('oidc_provider_unavailable', undefined, { provider: provider.id });
    }
    let pending = configs.get(provider.id);
    if (!pending) {
      const insecure = provider.issuer.startsWith('http:');
      pending = insecure && !opts.allowHttp
        ? Promise.reject(new Error('http issuers are refused in production'))
        : client.discovery(
          new URL(provider.issuer),
          provider.clientId,
          provider.clientSecret,
          provider.clientSecret === undefined ? client.None() : client.ClientSecretPost(provider.clientSecret),
          { timeout: opts.timeoutMs / 1000, ...(insecure ? { execute: [client.allowInsecureRequests] } : {}) },
        );
      configs.set(provider.id, pending);
    }
    try {
      const config = await pending;
      failedAt.delete(provider.id);
      return config;
    } catch (err) {
      // Fail closed, and forget the failure after a while: the provider may come back.
      if (configs.get(provider.id) === pending) {
        configs.delete(provider.id);
        failedAt.set(provider.id, opts.clock.now());
      }
      throw unavailable(provider, 'discovery', err);
    }
  }

  /** A refusal the client caused (bad code, replay, checks failed) vs. a provider that is not answering. */
  function classify(provider: OidcProviderConfig, err: unknown): AppError {
    if (err instanceof AppError) return err;
    if (err instanceof client.AuthorizationResponseError) {
      return new AppError('oidc_login_failed', undefined, { reason: 'provider_error' });
    }
    if (err instanceof client.ResponseBodyError || err instanceof client.WWWAuthenticateChallengeError) {
      // e.g. invalid_grant: a replayed or expired code (RFC 6749 §4.1.2, §5.2).
      if (err instanceof client.ResponseBodyError && err.status >= 500) return unavailable(provider, 'token', err);
      return new AppError('oidc_login_failed', undefined, { reason: 'exchange' });
    }
    if (err instanceof client.ClientError) {
      const code = err.code ?? '';
      if (code === 'OAUTH_RESPONSE_IS_NOT_JSON' || code === 'OAUTH_RESPONSE_IS_NOT_CONFORM') return unavailable(provider, 'token', err);
      opts.onError?.(provider.id, 'checks', err);
      return new AppError('oidc_login_failed', undefined, { reason: 'exchange' });
    }
    return unavailable(provider, 'token', err);
  }

  return {
    async authorizationUrl(provider, request) {
      const config = await configuration(provider);
      return client.buildAuthorizationUrl(config, {
        redirect_uri: request.redirectUri,
        scope: provider.scopes.join(' '),
        response_type: 'code',
        state: request.state,
        nonce: request.nonce,
        code_challenge: request.codeChallenge,
        code_challenge_method: 'S256',
      });
    },

    async exchange(provider, callbackUrl, checks) {
      const config = await configuration(provider);
      try {
        const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
          pkceCodeVerifier: checks.verifier,
          expectedState: checks.state,
          expectedNonce: checks.nonce,
          idTokenExpected: true,
        });
        const idClaims = tokens.claims();
        if (!idClaims) throw new AppError('oidc_login_failed', undefined, { reason: 'exchange' });
        const claims: Record<string, unknown> = { ...idClaims };
        // Many providers put email claims only in userinfo (OIDC Core §5.4 scope claims).
        if ((claims.email === undefined || claims.email_verified === undefined) && config.serverMetadata().userinfo_endpoint) {
          const info = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
          for (const key of ['email', 'email_verified', 'name'] as const) {
            if (claims[key] === undefined && info[key] !== undefined) claims[key] = info[key];
          }
        }
        return { subject: idClaims.sub, claims };
      } catch (err) {
        throw classify(provider, err);
      }
    },
  };
}

/** PKCE S256 (RFC 7636 §4.2) and the nonce (OIDC Core §15.5.2) from openid-client's CSPRNG helpers. */
export async function createAuthorizationSecrets(): Promise<{ nonce: string; verifier: string; codeChallenge: string }> {
  const verifier = client.randomPKCECodeVerifier();
  return {
    nonce: client.randomNonce(),
    verifier,
    codeChallenge: await client.calculatePKCECodeChallenge(verifier),
  };
}
