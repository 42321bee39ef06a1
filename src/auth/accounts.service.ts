import { randomUUID } from 'node:crypto';
import type { CacheBus } from '../cache/invalidation-bus.js';
import { createInvalidatedCache } from '../cache/invalidated-cache.js';
import type { Database } from '../db/index.js';
import type { Clock } from '../shared/clock.js';
import type { EventHub, RequestMeta } from '../shared/events.js';
import { AppError } from '../errors/index.js';
import { isUniqueViolation } from '../db/errors.js';
import { createDummyHash, hashPassword, verifyPassword } from './password.js';
import type { EmailVerification } from './email-verification.service.js';
import type { PasswordPolicy } from './password-policy.js';
import type { IssuedTokens, SessionService } from './sessions.service.js';
import type { AttemptGuard, AttemptTicket } from '../rate-limit/attempt-guard.js';
import * as users from './users.repo.js';

export interface PublicUser {
  id: string;
  email: string;
  name: string;
  /** Whether the owner of the address has proved it (a verification or reset link). */
  emailVerified: boolean;
}

function toPublicUser(u: users.UserRecord): PublicUser {
  return { id: u.id, email: u.email, name: u.name, emailVerified: u.emailVerifiedAt !== null };
}

/** The one answer of `register`, whether or not the address already has an account. */
export const REGISTER_ANSWER = { message: 'Check your e-mail: we sent a link to finish signing up.' } as const;

/** Sign-up and password login. Sessions and tokens come from the session service. */
export interface AccountService {
  /**
   * `AUTH_SIGNUP_MODE=open`: creates the account and its first session, and mails a
   * verification link; a taken email is `duplicate_resource`.
   */
  signup(input: { email: string; password: string; name: string }, meta: RequestMeta): Promise<{ user: PublicUser } & IssuedTokens>;
  /**
   * Verifies email + password. Unknown emails verify against a dummy hash so both failures
   * cost one argon2 verification and return the same body (ASVS 2.2 / 3.2, no enumeration).
   */
  verifyCredentials(email: string, password: string): Promise<users.UserRecord | null>;
  /**
   * `AUTH_SIGNUP_MODE=verify` (ADR 0013): the same answer, and the same work before it, whether
   * or not the address has an account: the password is checked and hashed, one insert that does
   * nothing on a taken address runs; after the answer, a new account gets a verification link,
   * an existing one a "someone tried to sign up" notice. No tokens until the email is verified.
   */
  register(input: { email: string; password: string; name: string }, meta: RequestMeta): Promise<void>;
  /** Password login behind the lockout; with MFA on it throws `mfa_required` carrying a challenge. */
  login(input: { email: string; password: string }, meta: RequestMeta): Promise<{ user: PublicUser } & IssuedTokens>;
  /** The public profile of a user, from the cache when possible; null if there is no such user. */
  findProfile(id: string): Promise<PublicUser | null>;
}

export async function createAccountService(deps: {
  db: Database;
  bus: CacheBus;
  clock: Clock;
  cacheTtlSeconds: number;
  cacheMax: number;
  onCacheLookup?: (result: 'hit' | 'miss') => void;
  sessions: SessionService;
  events: EventHub;
  /** Brute-force lockout (ASVS 2.2.1); absent in CLIs. */
  guard?: AttemptGuard;
  /** Second factor: with MFA on, a correct password yields a challenge instead of a session. */
  mfa?: { isEnabled(userId: string): Promise<boolean>; createChallenge(userId: string): Promise<string> };
  verification: EmailVerification;
  passwordPolicy: PasswordPolicy;
  /** In `verify` mode a password login of an unverified account is refused (`email_not_verified`). */
  signupMode: 'verify' | 'open';
  onMailError?: (err: unknown) => void;
}): Promise<AccountService> {
  const dummyHash = await createDummyHash();
  // Public profiles (id, email, name) for GET /api/auth/me and token responses. Nothing in
  // Boka changes them today; whatever does must publish a `user` invalidation.
  const profiles = createInvalidatedCache<PublicUser>({
    bus: deps.bus,
    clock: deps.clock,
    max: deps.cacheMax,
    ttlSeconds: deps.cacheTtlSeconds,
    onLookup: deps.onCacheLookup,
  });
  deps.bus.subscribe((m) => {
    if (m.kind === 'user') profiles.delete(m.userId);
  });

  /** Work only some callers cause runs after the answer, so it cannot be timed (ADR 0013). */
  function sendAfterAnswer(work: () => Promise<void>): void {
    setImmediate(() => {
      work().catch((err: unknown) => deps.onMailError?.(err));
    });
  }

  const service: AccountService = {
    async signup(input: { email: string; password: string; name: string }, meta: RequestMeta) {
      deps.passwordPolicy.assertAcceptable(input.password, input, 'password');
      const passwordHash = await hashPassword(input.password);
      let user: users.UserRecord;
      try {
        user = await users.insertUser(deps.db, { id: randomUUID(), email: input.email, name: input.name, passwordHash });
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError('duplicate_resource', 'An account with this email already exists');
        throw err;
      }
      const tokens = await deps.sessions.create(user.id, meta);
      sendAfterAnswer(() => deps.verification.send(user));
      return { user: toPublicUser(user), ...tokens };
    },

    async register(input: { email: string; password: string; name: string }, _meta: RequestMeta) {
      // The policy sees only what the caller sent, so it answers alike for taken and new addresses.
      deps.passwordPolicy.assertAcceptable(input.password, input, 'password');
      const passwordHash = await hashPassword(input.password);
      const created = await users.insertUserIfAbsent(deps.db, { id: randomUUID(), email: input.email, name: input.name, passwordHash });
      sendAfterAnswer(async () => {
        if (created) return deps.verification.send(created);
        const existing = await users.findUserByEmail(deps.db, input.email);
        if (existing) await deps.verification.notifyExistingSignup(existing);
      });
    },

    async verifyCredentials(email: string, password: string): Promise<users.UserRecord | null> {
      const user = await users.findUserByEmail(deps.db, email);
      const ok = await verifyPassword(user?.passwordHash ?? dummyHash, password);
      return user && ok ? user : null;
    },

    async login(input: { email: string; password: string }, meta: RequestMeta): Promise<{ user: PublicUser } & IssuedTokens> {
      // The lock is keyed by the normalised email, existing or not: a locked unknown address
      // answers exactly like a locked real one.
      let ticket: AttemptTicket | null = null;
      try {
        ticket = deps.guard ? await deps.guard.begin({ scope: 'login', account: users.normalizeEmail(input.email), meta }) : null;
      } catch (err) {
        if (err instanceof AppError && err.code === 'quota_exceeded') {
          deps.events.emit('auth.login_failed', { userId: null, reason: 'locked', meta });
        }
        throw err;
      }
      const user = await this.verifyCredentials(input.email, input.password);
      if (!user) {
        deps.events.emit('auth.login_failed', { userId: null, reason: 'invalid_credentials', meta });
        throw new AppError('invalid_credentials');
      }
      await ticket?.succeeded();
      // Only someone who knows the password learns that the account is disabled (ADR 0021).
      if (user.disabledAt || user.deletedAt) {
        deps.events.emit('auth.login_failed', { userId: user.id, reason: 'account_disabled', meta });
        throw new AppError('account_disabled', 'This account has been disabled by a platform administrator');
      }
      // Only someone who knows the password learns that the address is unverified.
      if (deps.signupMode === 'verify' && !user.emailVerifiedAt) {
        throw new AppError('email_not_verified', 'Verify your e-mail address first: follow the link we sent, or ask for a new one');
      }
      if (deps.mfa && (await deps.mfa.isEnabled(user.id))) {
        const challengeToken = await deps.mfa.createChallenge(user.id);
        throw new AppError('mfa_required', undefined, { challengeToken });
      }
      const tokens = await deps.sessions.create(user.id, meta);
      deps.events.emit('auth.login', { userId: user.id, sessionId: tokens.sessionId, meta });
      return { user: toPublicUser(user), ...tokens };
    },

    async findProfile(id: string): Promise<PublicUser | null> {
      const profile = await profiles.getOrLoad(id, async () => {
        const user = await users.findUserById(deps.db, id);
        return user ? toPublicUser(user) : undefined;
      });
      return profile ?? null;
    },
  };
  return service;
}
