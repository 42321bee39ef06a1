import type { CacheBus } from '../cache/invalidation-bus.js';
import type { Database } from '../db/index.js';
import { AppError } from '../errors/index.js';
import type { MailTransport } from '../mail/index.js';
import type { AttemptGuard } from '../rate-limit/attempt-guard.js';
import type { Budget } from '../rate-limit/index.js';
import type { Clock } from '../shared/clock.js';
import type { RequestMeta } from '../shared/events.js';
import * as repo from './email-verification.repo.js';
import { findByToken, issueToken } from './one-time-tokens.js';
import { findUserByEmail, findUserById, markEmailVerified, normalizeEmail } from './users.repo.js';

const VERIFY_PREFIX = 'ev_';
/** Long enough to reach a mailbox and be opened the next day; single use (ASVS 2.3.1 / 2.5.x style). */
export const VERIFY_TTL_MS = 24 * 3600_000;

/**
 * Email verification: a one-time link to the address proves that whoever signed up controls it
 * (issue 18; ASVS 4.0.3 2.5.x / V3 one-time secrets, OWASP Authentication Cheat Sheet
 * "Account registration"). Verified accounts may claim customer records that carry their email.
 */
export interface EmailVerification {
  /** Stores a new link for the user's current address and mails it; supersedes older links. */
  send(user: { id: string; email: string }): Promise<void>;
  /**
   * Tells the owner of an existing account that someone tried to sign up with the address;
   * spends the per-address budget (silently), so repeated sign-ups cannot flood the mailbox.
   */
  notifyExistingSignup(user: { email: string }): Promise<void>;
  /** Link → `emailVerifiedAt`; anything but a live, unused link for the current address is `invalid_token`. */
  verify(token: string, meta: RequestMeta): Promise<void>;
  /**
   * Re-sends the link. Same answer, and the same work before it, whether the address has an
   * account, is already verified or is unknown; the per-address budget is spent silently.
   */
  resend(email: string, meta: RequestMeta): Promise<void>;
}

export function createEmailVerification(opts: {
  db: Database;
  clock: Clock;
  bus: CacheBus;
  mail: MailTransport;
  guard: AttemptGuard;
  perAccount: Budget;
  perIp: Budget;
  /** Page receiving `#token=…` (the fragment never reaches a server log). */
  verifyUrl: string;
  resetUrl: string;
  onMailError?: (err: unknown) => void;
}): EmailVerification {
  const { db } = opts;

  function mail(to: string, subject: string, text: string): void {
    // After the answer: a slow or failing SMTP server neither delays nor fails the request.
    opts.mail.send({ to, subject, text }).catch((err: unknown) => opts.onMailError?.(err));
  }

  const service: EmailVerification = {
    async send(user) {
      const { id, token, secretHash } = issueToken(VERIFY_PREFIX);
      const now = opts.clock.now();
      await db.transaction((tx) =>
        repo.insertVerification(tx, {
          id, userId: user.id, emailNormalized: normalizeEmail(user.email), secretHash,
          createdAt: new Date(now), expiresAt: new Date(now + VERIFY_TTL_MS),
        }),
      );
      mail(user.email, 'Verify your Boka email address',
        `Confirm that this address is yours by opening this link within 24 hours:\n${opts.verifyUrl}#token=${token}\n` +
        `If you did not sign up for Boka, ignore this e-mail.`);
    },

    async notifyExistingSignup(user) {
      try {
        await opts.perAccount.consume(`signup-notice:${normalizeEmail(user.email)}`);
      } catch (err) {
        if (err instanceof AppError && err.code === 'quota_exceeded') return;
        throw err;
      }
      mail(user.email, 'Someone tried to sign up to Boka with your address',
        `Someone tried to create a Boka account with this e-mail address, which already has one.\n` +
        `If it was you, sign in instead, or choose a new password here:\n${opts.resetUrl}\n` +
        `If it was not you, you can ignore this e-mail: nothing was changed.`);
    },

    async verify(token, meta) {
      const ticket = await opts.guard.begin({ scope: 'reset', account: null, meta });
      const record = await findByToken(token, VERIFY_PREFIX, (id) => repo.findVerification(db, id), (r) => r.secretHash);
      const now = opts.clock.now();
      const invalid = () => new AppError('invalid_token', 'The verification link is invalid or has expired');
      if (!record || record.usedAt || record.expiresAt.getTime() <= now) throw invalid();
      await ticket.succeeded();
      const done = await db.transaction(async (tx) => {
        if (!(await repo.useVerification(tx, record.id, new Date(now)))) return 'used';
        // A link proves only the address it was sent to.
        const user = await findUserById(tx, record.userId);
        if (!user || normalizeEmail(user.email) !== record.emailNormalized) return 'stale';
        await markEmailVerified(tx, user.id, record.emailNormalized, new Date(now));
        return 'ok';
      });
      if (done !== 'ok') throw invalid();
      await opts.bus.publish({ kind: 'user', userId: record.userId });
    },

    async resend(email, meta) {
      // Per-IP budget first: answered as 429, the same for every address.
      try {
        await opts.perIp.consume(meta.ip ?? 'unknown');
      } catch (err) {
        if (err instanceof AppError && err.code === 'quota_exceeded') {
          throw new AppError('quota_exceeded', 'Too many verification requests; try again later', undefined, { headers: err.headers });
        }
        throw err;
      }
      try {
        await opts.perAccount.consume(normalizeEmail(email));
      } catch (err) {
        if (err instanceof AppError && err.code === 'quota_exceeded') return;
        throw err;
      }
      const user = await findUserByEmail(db, email);
      if (!user || user.emailVerifiedAt) return;
      setImmediate(() => {
        service.send(user).catch((err: unknown) => opts.onMailError?.(err));
      });
    },
  };
  return service;
}
