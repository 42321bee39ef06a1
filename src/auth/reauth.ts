import type { Database } from '../db/index.js';
import { AppError } from '../errors/index.js';
import type { AttemptGuard } from '../rate-limit/attempt-guard.js';
import type { RequestMeta } from '../shared/events.js';
import { verifyPassword } from './password.js';
import { findUserById, type UserRecord } from './users.repo.js';

/**
 * What a signed-in user presents again before a sensitive change of their account (email
 * change, deletion): ASVS 4.0.3 3.7.1 ("re-authentication … before sensitive transactions or
 * account modifications") and 2.2.x. Only `password` today; a passkey assertion is meant to be
 * added here as another member of this union (and handled in `reauthenticate`), so every caller
 * accepts it without change.
 */
export type ReauthProof = { readonly password: string };

/** Checks a re-authentication proof for the signed-in user. */
export interface Reauthenticator {
  /**
   * Resolves with the (live) user when the proof is right; `invalid_credentials` otherwise.
   * Attempts spend the per-account brute-force budget of password checks (ASVS 2.2.1), so a
   * stolen access token cannot be used to guess the password here.
   */
  reauthenticate(userId: string, proof: ReauthProof, meta: RequestMeta): Promise<UserRecord>;
}

export function createReauthenticator(deps: { db: Database; guard: AttemptGuard }): Reauthenticator {
  return {
    async reauthenticate(userId, proof, meta) {
      const user = await findUserById(deps.db, userId);
      if (!user || user.deletedAt || user.disabledAt) throw new AppError('invalid_token');
      const ticket = await deps.guard.begin({ scope: 'password', account: userId, userId, meta });
      if (!(await verifyPassword(user.passwordHash, proof.password))) {
        throw new AppError('invalid_credentials', 'The password is incorrect');
      }
      await ticket.succeeded();
      return user;
    },
  };
}
