import type { CacheBus } from '../cache/invalidation-bus.js';
import type { Database } from '../db/index.js';
import { AppError } from '../errors/index.js';
import type { MailTransport } from '../mail/index.js';
import type { AttemptGuard } from '../rate-limit/attempt-guard.js';
import type { Clock } from '../shared/clock.js';
import type { EventHub, RequestMeta } from '../shared/events.js';
import { hashPassword, verifyPassword } from './password.js';
import * as repo from './password-flows.repo.js';
import { findByToken, issueToken } from './one-time-tokens.js';
import type { SessionService } from './sessions.service.js';
import type { PasswordPolicy } from './password-policy.js';
import { findUserByEmail, findUserById, markEmailVerified, normalizeEmail } from './users.repo.js';

const RESET_PREFIX = 'pr_';
/** ASVS 2.5.1 / 2.3.1 style one-time secret: short-lived. */
const RESET_TTL_MS = 15 * 60_000;

export interface PasswordFlowOptions {
  db: Database;
  /** Profiles are cached: a reset that verifies the address publishes a `user` invalidation. */
  bus: CacheBus;
  clock: Clock;
  events: EventHub;
  sessions: SessionService;
  mail: MailTransport;
  guard: AttemptGuard;
  /** zxcvbn policy for every new password (ASVS 2.1.7 offline part). */
  policy: PasswordPolicy;
  /** Base URL for the reset link in the e-mail (the token goes in the fragment, never to a server log). */
  resetUrl: string;
  onMailError?: (err: unknown) => void;
}

/** Password change, forgotten-password e-mail and reset. */
export interface PasswordFlows {
  /** ASVS 2.2.3 (notify) and 3.3.3 (terminate the other sessions). */
  change(userId: string, sessionId: string, input: { currentPassword: string; newPassword: string }, meta: RequestMeta): Promise<void>;
  /** Same answer whether or not the account exists (ASVS 2.5.x, no enumeration). */
  forgot(email: string, meta: RequestMeta): Promise<void>;
  /** One-time token → new password; every session ends (ASVS 3.3.3). */
  reset(token: string, newPassword: string, meta: RequestMeta): Promise<void>;
}

export function createPasswordFlows(opts: PasswordFlowOptions): PasswordFlows {
  const { db } = opts;

  function notify(to: string, subject: string, text: string): void {
    // Mail goes out after the response; a slow or failing SMTP server must not fail the change.
    opts.mail.send({ to, subject, text }).catch((err: unknown) => opts.onMailError?.(err));
  }

  async function sendReset(user: { id: string; email: string }, meta: RequestMeta): Promise<void> {
    const { id, token, secretHash } = issueToken(RESET_PREFIX);
    const now = opts.clock.now();
    await db.transaction((tx) =>
      repo.insertReset(tx, { id, userId: user.id, secretHash, createdAt: new Date(now), expiresAt: new Date(now + RESET_TTL_MS) }),
    );
    opts.events.emit('auth.password_reset_requested', { userId: user.id, meta });
    notify(user.email, 'Reset your Boka password',
      `Use this link within 15 minutes to choose a new password:\n${opts.resetUrl}#token=${token}\n` +
      `If you did not ask for this, ignore this e-mail.`);
  }

  return {
    async change(userId: string, sessionId: string, input: { currentPassword: string; newPassword: string }, meta: RequestMeta) {
      const user = await findUserById(db, userId);
      if (!user) throw new AppError('invalid_token');
      const ticket = await opts.guard.begin({ scope: 'password', account: userId, userId, meta });
      if (!(await verifyPassword(user.passwordHash, input.currentPassword))) {
        throw new AppError('invalid_credentials', 'The current password is incorrect');
      }
      await ticket.succeeded();
      opts.policy.assertAcceptable(input.newPassword, user, 'newPassword');
      const passwordHash = await hashPassword(input.newPassword);
      await db.transaction((tx) => repo.updatePasswordHash(tx, userId, passwordHash));
      const revokedSessions = await opts.sessions.revokeAllForUser(userId, 'password_changed', sessionId);
      opts.events.emit('auth.password_changed', { userId, revokedSessions, meta });
      notify(user.email, 'Your Boka password was changed',
        `The password of your Boka account was changed at ${new Date(opts.clock.now()).toISOString()}.\n` +
        `All other sessions were signed out. If this was not you, reset your password now and contact support.`);
    },

    /**
     * Same answer, and the same work before it, whether or not the account exists: the caller
     * waits for the budget check and one user lookup only; a known address's token insert and
     * mail happen after the answer (a known address used to answer ≈ 1.3 ms later). ASVS
     * 4.0.3 2.5.2 / 2.5.x and ASVS 5.0.0 6.3.8 (no enumeration through forgot-password,
     * response times included).
     */
    async forgot(email: string, meta: RequestMeta): Promise<void> {
      // Per-account budget: quietly stop sending mail, never tell the caller.
      try {
        await opts.guard.begin({ scope: 'reset', account: `forgot:${normalizeEmail(email)}`, meta: { ...meta, ip: null } });
      } catch (err) {
        if (err instanceof AppError && err.code === 'quota_exceeded') return;
        throw err;
      }
      const user = await findUserByEmail(db, email);
      if (!user) return;
      setImmediate(() => {
        sendReset(user, meta).catch((err: unknown) => opts.onMailError?.(err));
      });
    },

    async reset(token: string, newPassword: string, meta: RequestMeta): Promise<void> {
      const ticket = await opts.guard.begin({ scope: 'reset', account: null, meta });
      const record = await findByToken(token, RESET_PREFIX, (id) => repo.findReset(db, id), (r) => r.secretHash);
      const now = opts.clock.now();
      if (!record || record.usedAt || record.expiresAt.getTime() <= now) {
        throw new AppError('invalid_token', 'The reset link is invalid or has expired');
      }
      await ticket.succeeded();
      // Checked before the token is spent, so a weak choice can be corrected with the same link.
      const owner = await findUserById(db, record.userId);
      opts.policy.assertAcceptable(newPassword, owner ?? {}, 'newPassword');
      const passwordHash = await hashPassword(newPassword);
      const done = await db.transaction(async (tx) => {
        if (!(await repo.useReset(tx, record.id, new Date(now)))) return false;
        await repo.updatePasswordHash(tx, record.userId, passwordHash);
        // The link reached the address, which proves it as well as a verification link does.
        if (owner) await markEmailVerified(tx, owner.id, normalizeEmail(owner.email), new Date(now));
        return true;
      });
      if (!done) throw new AppError('invalid_token', 'The reset link is invalid or has expired');
      await opts.bus.publish({ kind: 'user', userId: record.userId });
      const revokedSessions = await opts.sessions.revokeAllForUser(record.userId, 'password_reset');
      const user = await findUserById(db, record.userId);
      if (user) await opts.guard.clear('login', normalizeEmail(user.email));
      opts.events.emit('auth.password_reset', { userId: record.userId, revokedSessions, meta });
      if (user) notify(user.email, 'Your Boka password was reset', 'Your password was reset and all sessions were signed out.');
    },
  };
}
