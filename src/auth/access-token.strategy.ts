import type { AuthStrategy } from '../access/index.js';
import { AppError } from '../errors/index.js';
import type { AccessTokenService } from './access-tokens.service.js';
import type { SessionService } from './sessions.service.js';

/**
 * Access-token strategy: local JWT verification (RFC 7519, algorithm pinned) followed by a
 * session-liveness check, so logout and revocation take effect on the next request.
 */
export function createAccessTokenStrategy(deps: {
  tokens: Pick<AccessTokenService, 'verify'>;
  sessions: Pick<SessionService, 'check'>;
}): AuthStrategy {
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
        amr: check.session.amr,
      };
    },
  };
}
