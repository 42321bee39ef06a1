import type { CacheBus } from '../cache/invalidation-bus.js';
import { isUniqueViolation } from '../db/errors.js';
import type { Database } from '../db/index.js';
import { AppError } from '../errors/index.js';
import type { MailTransport } from '../mail/index.js';
import type { AttemptGuard } from '../rate-limit/attempt-guard.js';
import type { Budget } from '../rate-limit/index.js';
import type { Clock } from '../shared/clock.js';
import type { EventHub, RequestMeta } from '../shared/events.js';
import { countOwnersForUpdate } from '../tenancy/members.repo.js';
import type { MembershipResolver } from '../tenancy/memberships.cache.js';
import type { AccountService, PublicUser } from './accounts.service.js';
import * as repo from './account.repo.js';
import { findByToken, issueToken } from './one-time-tokens.js';
import type { Reauthenticator, ReauthProof, ReauthSubject } from './reauth.js';
import { revokeUserSessions } from './sessions.repo.js';
import { findUserByEmail, normalizeEmail } from './users.repo.js';

const CHANGE_PREFIX = 'ec_';
/**
 * An email-change link is asked for by a signed-in user who is at their mailbox: one hour,
 * single use (ASVS 4.0.3 2.3.1 "expire after a short period", 2.5.x one-time secrets).
 */
export const EMAIL_CHANGE_TTL_MS = 3600_000;

/** The one answer of an email-change request, whether or not the new address is free (ASVS 5.0.0 6.3.8). */
export const EMAIL_CHANGE_ANSWER = { message: 'If this address can be used, we sent a confirmation link to it.' } as const;

/** The tenants that block a deletion because the account is their only owner. */
export interface LastOwnerTenant {
  id: string;
  slug: string;
}

/**
 * Self-service on the signed-in account (issue 18, ADR 0021): name, email change with
 * re-verification, deletion with re-authentication.
 */
export interface AccountSelfService {
  /** Changes the display name; every instance drops its cached profile. */
  updateProfile(userId: string, patch: { name: string }, meta: RequestMeta): Promise<PublicUser>;
  /**
   * Re-authenticates, then (after the answer) mails a single-use link to the new address and a
   * notice to the current one. A taken address gets no link; the answer is the same.
   */
  requestEmailChange(who: ReauthSubject, input: { newEmail: string } & ReauthProof, meta: RequestMeta): Promise<void>;
  /**
   * The link → the swap, in one transaction: the link is spent and the address replaced and
   * marked verified, or nothing changes (`duplicate_resource` when the address was taken meanwhile).
   */
  confirmEmailChange(token: string, meta: RequestMeta): Promise<void>;
  /**
   * Re-authenticates, refuses (`last_owner`) while the account is the only owner of a tenant,
   * else in one transaction anonymises the account, drops its credentials and second factors,
   * revokes its sessions and removes its memberships; every instance drops it at once.
   */
  deleteAccount(who: ReauthSubject, proof: ReauthProof, meta: RequestMeta): Promise<void>;
}

export function createAccountSelfService(deps: {
  db: Database;
  bus: CacheBus;
  clock: Clock;
  events: EventHub;
  mail: MailTransport;
  accounts: Pick<AccountService, 'findProfile'>;
  memberships: Pick<MembershipResolver, 'invalidate'>;
  reauth: Reauthenticator;
  /** Failed confirmations spend the per-IP budget of token guesses (ASVS 2.2.1). */
  guard: AttemptGuard;
  /** Email-change requests per account per hour (429 beyond: the caller is the account holder). */
  perAccount: Budget;
  /** Page that receives `#token=ec_…`; it posts the token to `POST /api/auth/me/email/confirm`. */
  changeUrl: string;
  onMailError?: (err: unknown) => void;
}): AccountSelfService {
  const { db } = deps;

  function mail(to: string, subject: string, text: string): void {
    // After the answer: a slow or failing SMTP server neither delays nor fails the request.
    deps.mail.send({ to, subject, text }).catch((err: unknown) => deps.onMailError?.(err));
  }

  async function forgetUser(userId: string): Promise<void> {
    // Profiles, sessions and memberships of this user, on every instance (ADR 0002 bus).
    await deps.bus.publish({ kind: 'user', userId });
  }

  /** Stores the pending change and mails both addresses; runs after the answer. */
  async function sendChangeLink(user: { id: string; email: string }, newEmail: string): Promise<void> {
    if (await findUserByEmail(db, newEmail)) return; // taken: no link, nothing that tells the caller
    const { id, token, secretHash } = issueToken(CHANGE_PREFIX);
    const now = deps.clock.now();
    await db.transaction((tx) =>
      repo.insertEmailChange(tx, {
        id, userId: user.id, oldEmailNormalized: normalizeEmail(user.email), newEmail: newEmail.trim(),
        newEmailNormalized: normalizeEmail(newEmail), secretHash, createdAt: new Date(now), expiresAt: new Date(now + EMAIL_CHANGE_TTL_MS),
      }),
    );
    mail(newEmail.trim(), 'Confirm your new Boka email address',
      `Someone signed in to Boka asked to use this address for their account. To confirm, open this link within one hour:\n` +
      `${deps.changeUrl}#token=${token}\nIf this was not you, ignore this e-mail: nothing changes.`);
    // ASVS 4.0.3 2.2.3 / 3.7.1 spirit: the current address hears about it and can react.
    mail(user.email, 'A change of your Boka email address was requested',
      `A change of the e-mail address of your Boka account was requested at ${new Date(now).toISOString()}.\n` +
      `The address changes only when the link sent to the new address is opened. If this was not you, change your password now.`);
  }

  return {
    async updateProfile(userId, patch, meta) {
      const name = patch.name.trim();
      if (name.length === 0) {
        throw new AppError('validation_error', 'The request is invalid', [{ field: 'name', in: 'body', message: 'must not be blank' }]);
      }
      if (!(await db.transaction((tx) => repo.updateName(tx, userId, name)))) throw new AppError('invalid_token');
      await forgetUser(userId);
      deps.events.emit('account.profile_updated', { userId, fields: ['name'], meta });
      const profile = await deps.accounts.findProfile(userId);
      if (!profile) throw new AppError('invalid_token');
      return profile;
    },

    async requestEmailChange(who, input, meta) {
      const { userId } = who;
      const user = await deps.reauth.reauthenticate(who, input, meta);
      if (normalizeEmail(input.newEmail) === normalizeEmail(user.email)) {
        throw new AppError('validation_error', 'The request is invalid', [{ field: 'newEmail', in: 'body', message: 'is already the address of this account' }]);
      }
      await deps.perAccount.consume(`email-change:${userId}`);
      deps.events.emit('account.email_change_requested', { userId, meta });
      // Whether the new address is taken is decided after the answer (enumeration-safe).
      setImmediate(() => {
        sendChangeLink(user, input.newEmail).catch((err: unknown) => deps.onMailError?.(err));
      });
    },

    async confirmEmailChange(token, meta) {
      const ticket = await deps.guard.begin({ scope: 'reset', account: null, meta });
      const record = await findByToken(token, CHANGE_PREFIX, (id) => repo.findEmailChange(db, id), (r) => r.secretHash);
      const now = deps.clock.now();
      const invalid = () => new AppError('invalid_token', 'The confirmation link is invalid or has expired');
      if (!record || record.usedAt || record.expiresAt.getTime() <= now) throw invalid();
      await ticket.succeeded();
      let outcome: 'ok' | 'used' | 'stale';
      try {
        outcome = await db.transaction(async (tx) => {
          if (!(await repo.useEmailChange(tx, record.id, new Date(now)))) return 'used';
          const swapped = await repo.swapEmail(tx, record.userId, record.oldEmailNormalized,
            { email: record.newEmail, normalized: record.newEmailNormalized }, new Date(now));
          return swapped ? 'ok' : 'stale';
        });
      } catch (err) {
        // Taken between the request and now: the transaction rolled back whole (link unspent).
        if (isUniqueViolation(err)) throw new AppError('duplicate_resource', 'This address is already used by another account', { field: 'newEmail' });
        throw err;
      }
      if (outcome !== 'ok') throw invalid();
      await forgetUser(record.userId);
      deps.events.emit('account.email_changed', { userId: record.userId, meta });
      mail(record.oldEmailNormalized, 'Your Boka email address was changed',
        `The e-mail address of your Boka account was changed at ${new Date(now).toISOString()}; this address no longer signs in.\n` +
        `If this was not you, contact support at once.`);
    },

    async deleteAccount(who, proof, meta) {
      const { userId } = who;
      await deps.reauth.reauthenticate(who, proof, meta);
      const now = new Date(deps.clock.now());
      const done = await db.transaction(async (tx) => {
        const user = await repo.lockLiveUser(tx, userId);
        if (!user) throw new AppError('invalid_token');
        if (user.isSuperadmin) {
          const active = await repo.lockActiveSuperadmins(tx);
          if (active.length <= 1 && active.includes(userId)) {
            throw new AppError('invalid_state', 'The last active superadmin cannot delete its account; grant another one first', { reason: 'last_active_superadmin' });
          }
        }
        const own = await repo.listOwnMemberships(tx, userId);
        const blocking: LastOwnerTenant[] = [];
        // Bounded by the user's own memberships; the owner rows are locked, so two owners
        // deleting their accounts at once cannot both pass as "not the last one".
        for (const m of own.filter((x) => x.role === 'owner')) {
          await repo.setTenantScope(tx, m.tenantId);
          if ((await countOwnersForUpdate(tx, m.tenantId)) <= 1) blocking.push({ id: m.tenantId, slug: m.slug });
        }
        await repo.setTenantScope(tx, null);
        if (blocking.length > 0) {
          throw new AppError('last_owner', 'You are the only owner of these tenants: make another member owner (or delete the tenant) first', { tenants: blocking });
        }
        const revoked = await revokeUserSessions(tx, userId, 'account_deleted', now, null);
        await repo.deleteUserSecrets(tx, userId);
        const tenantIds = await repo.deleteOwnMemberships(tx, userId);
        await repo.anonymiseUser(tx, userId, now);
        return { revoked, tenantIds };
      }, { 'app.user_id': userId });
      // Every instance drops the sessions, memberships and profile of this user now.
      await forgetUser(userId);
      for (const sessionId of done.revoked) await deps.bus.publish({ kind: 'session', sessionId });
      for (const tenantId of done.tenantIds) {
        await deps.memberships.invalidate(tenantId, userId);
        deps.events.emit('member.removed', { tenantId, actorUserId: userId, userId, meta });
      }
      deps.events.emit('account.deleted', { userId, revokedSessions: done.revoked.length, tenantIds: done.tenantIds, meta });
    },
  };
}
