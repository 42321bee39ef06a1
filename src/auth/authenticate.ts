import { AppError } from '../http/app-error.js';
import type { AccessTokenService } from './access-tokens.service.js';
import type { Principal } from './principal.js';
import type { RequestMeta } from '../shared/events.js';
import type { SessionService } from './sessions.service.js';

/** A credential extracted from request headers, before it is checked. */
export type Credential = { kind: 'bearer'; token: string } | { kind: 'api_key'; key: string };

/**
 * A strategy turns one kind of credential into a Principal. Access tokens (this file) and API
 * keys plug into the same step; `canHandle` picks the strategy.
 */
export interface AuthStrategy {
  canHandle(credential: Credential): boolean;
  /** `meta` says where the request came from, for the audit trail of refused credentials. */
  authenticate(credential: Credential, meta: RequestMeta): Promise<Principal>;
}

/** Prefix of every Boka API key secret (`boka_sk_…`). */
export const API_KEY_PREFIX = 'boka_sk_';

/** Reads `Authorization: Bearer …` or `X-API-Key`. Returns null when neither is present. */
export function extractCredential(headers: Record<string, string | string[] | undefined>): Credential | null {
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey !== '') return { kind: 'api_key', key: apiKey };
  const authorization = headers.authorization;
  if (typeof authorization !== 'string' || authorization === '') return null;
  const match = /^Bearer +(\S+)$/i.exec(authorization);
  if (!match?.[1]) throw new AppError('invalid_token', 'The Authorization header must be "Bearer <token>"');
  // API keys may also be sent as a bearer token; their prefix tells them apart from JWTs.
  if (match[1].startsWith(API_KEY_PREFIX)) return { kind: 'api_key', key: match[1] };
  return { kind: 'bearer', token: match[1] };
}

/**
 * Access-token strategy: local JWT verification (RFC 7519, algorithm pinned) followed by a
 * session-liveness check, so logout and revocation take effect on the next request.
 */
export function createAccessTokenStrategy(deps: { tokens: AccessTokenService; sessions: SessionService }): AuthStrategy {
  return {
    canHandle: (c) => c.kind === 'bearer',
    async authenticate(c) {
      if (c.kind !== 'bearer') throw new AppError('invalid_token');
      const verified = await deps.tokens.verify(c.token);
      if (!verified.ok) throw new AppError(verified.code);
      const check = await deps.sessions.check(verified.claims.sid);
      if (!check.ok) throw new AppError('invalid_token', 'The session has ended', { reason: `session_${check.reason}` });
      if (check.session.userId !== verified.claims.sub) throw new AppError('invalid_token');
      return {
        kind: 'user',
        userId: check.session.userId,
        sessionId: check.session.id,
        isSuperadmin: check.session.isSuperadmin,
      };
    },
  };
}

/** Runs the first strategy that accepts the credential. */
export async function authenticate(strategies: readonly AuthStrategy[], credential: Credential, meta: RequestMeta): Promise<Principal> {
  const strategy = strategies.find((s) => s.canHandle(credential));
  if (!strategy) throw new AppError('invalid_token', 'Unsupported credential');
  return strategy.authenticate(credential, meta);
}
