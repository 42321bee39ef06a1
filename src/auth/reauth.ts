import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import type { Database } from '../db/index.js';
import { AppError } from '../errors/index.js';
import type { AttemptGuard } from '../rate-limit/attempt-guard.js';
import type { Clock } from '../shared/clock.js';
import type { EventHub, RequestMeta } from '../shared/events.js';
import { verifyPassword } from './password.js';
import { findSession } from './sessions.repo.js';
import { lockSignInMethods } from './sign-in-methods.repo.js';
import { findUserById, type UserRecord } from './users.repo.js';

/** A federated sign-in counts as re-authentication for this long (ADR 0021; like passkey registration, ADR 0016). */
export const RECENT_SIGN_IN_MAX_AGE_MS = 10 * 60_000;

/**
 * What a signed-in user presents again before a sensitive change of their account (email
 * change, deletion): ASVS 4.0.3 3.7.1 ("re-authentication … before sensitive transactions or
 * account modifications"). One of:
 * - `password`: the account's password (ASVS 2.2.x);
 * - `passkey`: a WebAuthn assertion with user verification over a challenge from
 *   `POST /api/auth/passkeys/reauthentication/options` (W3C WebAuthn L2 §7.2);
 * - `recentSignIn: true`: only for an account with neither a password nor a passkey (it signs
 *   in through OpenID Connect alone): the current session must come from an OIDC sign-in
 *   (RFC 8176 `amr` `fed`) at most 10 minutes old; otherwise sign in at the provider again
 *   (OIDC Core 1.0 §3.1.2.1 `max_age`/`prompt=login` is the provider's side of the same idea).
 */
export type ReauthProof =
  | { readonly password: string }
  | { readonly passkey: unknown }
  | { readonly recentSignIn: true };

/** Who re-authenticates: the signed-in user and the session the request came with. */
export interface ReauthSubject {
  readonly userId: string;
  readonly sessionId: string;
}

/** Checks a re-authentication proof for the signed-in user. */
export interface Reauthenticator {
  /**
   * Resolves with the (live) user when the proof is right; `invalid_credentials` otherwise
   * (`reauthentication_required` for a stale or non-federated session offering `recentSignIn`).
   * Attempts spend the per-account brute-force budget (ASVS 2.2.1), so a stolen access token
   * cannot be used to guess the password here.
   */
  reauthenticate(who: ReauthSubject, proof: ReauthProof, meta: RequestMeta): Promise<UserRecord>;
}

/** The passkeys capability's assertion check, wired in app.ts (src/auth does not import src/passkeys). */
export interface PasskeyAssertionVerifier {
  verifyPasskeyAssertion(userId: string, response: AuthenticationResponseJSON, meta: RequestMeta): Promise<boolean>;
}

export function createReauthenticator(deps: {
  db: Database;
  guard: AttemptGuard;
  clock: Clock;
  /** `account.reauthenticated` (success and failure) goes to the platform audit chain (ASVS 4.0.3 7.1.3). */
  events: EventHub;
  passkeys?: PasskeyAssertionVerifier;
}): Reauthenticator {
  return {
    async reauthenticate(who, proof, meta) {
      const { userId } = who;
      const user = await findUserById(deps.db, userId);
      if (!user || user.deletedAt || user.disabledAt) throw new AppError('invalid_token');
      const ticket = await deps.guard.begin({ scope: 'password', account: userId, userId, meta });
      const method = 'password' in proof ? 'password' : 'passkey' in proof ? 'passkey' : 'recent_sign_in';
      const wrong = (message: string) => {
        deps.events.emit('account.reauthenticated', { userId, method, outcome: 'failure', meta });
        return new AppError('invalid_credentials', message);
      };
      if ('password' in proof) {
        if (!(await verifyPassword(user.passwordHash, proof.password))) throw wrong('The password is incorrect');
      } else if ('passkey' in proof) {
        const ok = deps.passkeys !== undefined
          && (await deps.passkeys.verifyPasskeyAssertion(userId, proof.passkey as AuthenticationResponseJSON, meta));
        if (!ok) throw wrong('The passkey could not be verified');
      } else {
        // Only an account that has nothing else to present may use its fresh federated sign-in.
        const methods = await deps.db.transaction((tx) => lockSignInMethods(tx, userId));
        if (!methods) throw new AppError('invalid_token');
        if (methods.password || methods.passkeys > 0) {
          throw wrong('This account has a password or a passkey: re-authenticate with it');
        }
        const session = await findSession(deps.db, who.sessionId);
        const fresh = session !== null && session.userId === userId && session.amr.includes('fed')
          && deps.clock.now() - session.createdAt.getTime() <= RECENT_SIGN_IN_MAX_AGE_MS;
        if (!fresh) {
          deps.events.emit('account.reauthenticated', { userId, method, outcome: 'failure', meta });
          throw new AppError('reauthentication_required', 'Sign in with your provider again, then retry within 10 minutes', {
            maxSessionAgeSeconds: RECENT_SIGN_IN_MAX_AGE_MS / 1000,
          });
        }
      }
      await ticket.succeeded();
      deps.events.emit('account.reauthenticated', { userId, method, outcome: 'success', meta });
      return user;
    },
  };
}
