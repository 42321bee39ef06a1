import { randomBytes, randomUUID } from 'node:crypto';
import QRCode from 'qrcode';
import { verifyPassword } from '../auth/password.js';
import { findByToken, issueToken } from '../auth/one-time-tokens.js';
import { decryptAtRest, encryptAtRest } from '../auth/secrets.js';
import type { IssuedTokens, SessionService } from '../auth/sessions.service.js';
import { findUserById } from '../auth/users.repo.js';
import { createInvalidatedCache } from '../cache/invalidated-cache.js';
import type { CacheBus } from '../cache/invalidation-bus.js';
import type { Database } from '../db/index.js';
import { AppError } from '../errors/index.js';
import type { AttemptGuard } from '../rate-limit/attempt-guard.js';
import type { Clock } from '../shared/clock.js';
import type { EventHub, RequestMeta } from '../shared/events.js';
import { generateBackupCodes, hashBackupCode, looksLikeBackupCode } from './backup-codes.core.js';
import * as repo from './mfa.repo.js';
import { checkTotp, createTotp, generateTotpSecret } from './totp.core.js';

const CHALLENGE_PREFIX = 'mfa_';
/** The password step is valid for this long before the second factor must follow. */
const CHALLENGE_TTL_MS = 5 * 60_000;

export interface MfaServiceOptions {
  db: Database;
  bus: CacheBus;
  clock: Clock;
  events: EventHub;
  sessions: SessionService;
  guard: AttemptGuard;
  /** Encrypts TOTP secrets at rest (the same key as signing keys). */
  encryptionKey: Buffer;
  issuer: string;
  cacheTtlSeconds: number;
}

const wrongCode = () => new AppError('invalid_credentials', 'The code is incorrect or was already used');

/**
 * TOTP (RFC 6238) enrolment and verification, backup codes, and the login challenge that
 * follows a correct password when MFA is on. Every code check goes through the attempt guard.
 */
export interface MfaService {
  /** Whether the user has MFA on (cached, invalidated on every instance when it changes). */
  isEnabled(userId: string): Promise<boolean>;
  /** New secret + otpauth:// URI + QR code; MFA stays off until `enable` proves the app has it. */
  setup(userId: string): Promise<{ secret: string; uri: string; qrSvg: string }>;
  /**
   * Turns MFA on once a code from the app checks out; the backup codes are returned this once.
   * Every other session of the user ends; `currentSessionId` gains `otp` in its `amr`.
   */
  enable(userId: string, code: string, meta: RequestMeta, currentSessionId?: string | null): Promise<{ backupCodes: string[] }>;
  /** Turns MFA off, proven by a TOTP or backup code, or by the password. */
  disable(userId: string, proof: { code?: string; password?: string }, meta: RequestMeta): Promise<void>;
  /** Replaces every backup code, proven by the password or a current code; the old ones stop working. */
  regenerateBackupCodes(userId: string, proof: { code?: string; password?: string }, meta: RequestMeta): Promise<{ backupCodes: string[] }>;
  /**
   * After a correct first factor (the password, or an OIDC sign-in: `fed`): a single-use token
   * naming the user, valid for five minutes; the session it leads to records that factor + `otp`.
   */
  createChallenge(userId: string, firstFactor?: 'pwd' | 'fed'): Promise<string>;
  /** Completes an MFA login: a valid challenge plus a TOTP or backup code → a session. */
  verifyChallenge(challengeToken: string, code: string, meta: RequestMeta): Promise<{ userId: string } & IssuedTokens>;
  /** The user a live (unused, unexpired) MFA challenge names; null for anything else. */
  findChallengeUser(challengeToken: string): Promise<string | null>;
  /**
   * Completes an MFA login with a second factor another capability checks (a passkey, `hwk`):
   * `prove(userId)` runs under the same attempt guard as a code; the session gets `['pwd', method]`.
   */
  verifyChallengeWith(challengeToken: string, method: 'hwk', prove: (userId: string) => Promise<boolean>, meta: RequestMeta): Promise<{ userId: string } & IssuedTokens>;
}

export function createMfaService(opts: MfaServiceOptions): MfaService {
  const { db } = opts;
  const enabledCache = createInvalidatedCache<{ enabled: boolean }>({ bus: opts.bus, clock: opts.clock, max: 100_000, ttlSeconds: opts.cacheTtlSeconds });
  opts.bus.subscribe((m) => {
    if (m.kind === 'user') enabledCache.delete(m.userId);
  });

  async function changed(userId: string): Promise<void> {
    enabledCache.delete(userId);
    await opts.bus.publish({ kind: 'user', userId });
  }

  async function newBackupCodes(tx: Parameters<Parameters<Database['transaction']>[0]>[0], userId: string): Promise<string[]> {
    const codes = generateBackupCodes(randomBytes);
    await repo.replaceBackupCodes(tx, userId, codes.map((c) => ({ id: randomUUID(), hash: hashBackupCode(c) })));
    return codes;
  }

  /** Re-authentication for sensitive MFA changes: a current code, or the password; guarded. */
  async function reauthenticate(userId: string, proof: { code?: string; password?: string }, meta: RequestMeta): Promise<void> {
    await guarded(userId, meta, async () => {
      if (proof.code !== undefined) return (await checkSecondFactor(userId, proof.code, meta)) ? true : null;
      const user = await findUserById(db, userId);
      return user && proof.password !== undefined && (await verifyPassword(user.passwordHash, proof.password)) ? true : null;
    });
  }

  /** Checks a TOTP or backup code for an enabled user; consumes it on success. */
  async function checkSecondFactor(userId: string, code: string, meta: RequestMeta): Promise<boolean> {
    const mfa = await repo.findMfa(db, userId);
    if (!mfa?.enabledAt) return false;
    const now = opts.clock.now();
    if (looksLikeBackupCode(code)) {
      if (!(await repo.consumeBackupCode(db, userId, hashBackupCode(code), new Date(now)))) return false;
      opts.events.emit('mfa.backup_code_used', { userId, remaining: await repo.countUnusedBackupCodes(db, userId), meta });
      return true;
    }
    const totp = createTotp(decryptAtRest(mfa.secretEnc, opts.encryptionKey));
    const check = checkTotp(totp, code, now, mfa.lastStep);
    const accepted = check.ok && (await repo.advanceStep(db, userId, check.step));
    if (!accepted && (check.ok || check.reason === 'replay')) {
      // ASVS 2.8.5: a reused code is refused and logged.
      opts.events.emit('mfa.replay', { userId, meta });
    }
    return accepted;
  }

  async function guarded<T>(userId: string, meta: RequestMeta, fn: () => Promise<T | null>): Promise<T> {
    const ticket = await opts.guard.begin({ scope: 'mfa', account: userId, userId, meta });
    const result = await fn();
    if (result === null) throw wrongCode();
    await ticket.succeeded();
    return result;
  }

  async function liveChallenge(challengeToken: string) {
    const challenge = await findByToken(challengeToken, CHALLENGE_PREFIX, (id) => repo.findChallenge(db, id), (c) => c.secretHash);
    return !challenge || challenge.usedAt || challenge.expiresAt.getTime() <= opts.clock.now() ? null : challenge;
  }

  /** The second step of an MFA login, whichever factor proves it: guarded, single use, then a session. */
  async function completeChallenge(
    challengeToken: string,
    method: 'otp' | 'hwk',
    prove: (userId: string) => Promise<boolean>,
    meta: RequestMeta,
  ): Promise<{ userId: string } & IssuedTokens> {
    const challenge = await liveChallenge(challengeToken);
    if (!challenge) throw new AppError('invalid_token', 'The MFA challenge is invalid or has expired; sign in again');
    const { userId } = challenge;
    try {
      await guarded(userId, meta, async () => ((await prove(userId)) ? true : null));
    } catch (err) {
      if (err instanceof AppError && err.code === 'invalid_credentials') {
        opts.events.emit('auth.login_failed', { userId, reason: 'mfa_failed', meta });
      }
      throw err;
    }
    if (!(await repo.useChallenge(db, challenge.id, new Date(opts.clock.now())))) {
      throw new AppError('invalid_token', 'The MFA challenge is invalid or has expired; sign in again');
    }
    // A challenge issued before a superadmin disabled the account opens nothing (ADR 0021).
    const account = await findUserById(db, userId);
    if (!account || account.disabledAt || account.deletedAt) {
      throw new AppError('account_disabled', 'This account has been disabled by a platform administrator');
    }
    // Only the two values Boka writes; anything else in the row is treated as a password login.
    const first = challenge.firstFactor === 'fed' ? 'fed' : 'pwd';
    const tokens = await opts.sessions.create(userId, meta, [first, method]);
    opts.events.emit('auth.login', { userId, sessionId: tokens.sessionId, meta });
    return { userId, ...tokens };
  }

  return {
    async isEnabled(userId: string): Promise<boolean> {
      const entry = await enabledCache.getOrLoad(userId, async () => ({ enabled: Boolean((await repo.findMfa(db, userId))?.enabledAt) }));
      return entry!.enabled;
    },

    async setup(userId: string): Promise<{ secret: string; uri: string; qrSvg: string }> {
      const user = await findUserById(db, userId);
      if (!user) throw new AppError('invalid_token');
      const current = await repo.findMfa(db, userId);
      if (current?.enabledAt) throw new AppError('invalid_state', 'MFA is already enabled; disable it first to enrol a new device');
      const secret = generateTotpSecret(randomBytes);
      await repo.upsertPendingSecret(db, userId, encryptAtRest(secret, opts.encryptionKey));
      const uri = createTotp(secret, { issuer: opts.issuer, label: user.email }).toString();
      const qrSvg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M' });
      return { secret, uri, qrSvg };
    },

    /**
     * Enables TOTP. The code proves the second factor in the calling session, which is marked
     * `otp`; every other session of the user is revoked (ASVS 4.0.3 3.3.3 as extended to any factor by
     * ASVS 5.0.0 7.4.3): they were opened with the password alone.
     */
    async enable(userId: string, code: string, meta: RequestMeta, currentSessionId: string | null = null): Promise<{ backupCodes: string[] }> {
      const pending = await repo.findMfa(db, userId);
      if (!pending) throw new AppError('invalid_state', 'Call /api/auth/mfa/totp/setup first');
      if (pending.enabledAt) throw new AppError('invalid_state', 'MFA is already enabled');
      const result = await guarded(userId, meta, async () => {
        const check = checkTotp(createTotp(decryptAtRest(pending.secretEnc, opts.encryptionKey)), code, opts.clock.now(), pending.lastStep);
        if (!check.ok) return null;
        return db.transaction(async (tx) => {
          if (!(await repo.enableMfa(tx, userId, check.step, new Date(opts.clock.now())))) return null;
          return { backupCodes: await newBackupCodes(tx, userId) };
        });
      });
      if (currentSessionId) await opts.sessions.addAuthMethod(currentSessionId, userId, 'otp');
      await opts.sessions.revokeAllForUser(userId, 'mfa_enabled', currentSessionId);
      await changed(userId);
      opts.events.emit('mfa.enabled', { userId, meta });
      return result;
    },

    async disable(userId: string, proof: { code?: string; password?: string }, meta: RequestMeta): Promise<void> {
      if (!(await repo.findMfa(db, userId))?.enabledAt) throw new AppError('invalid_state', 'MFA is not enabled');
      const method = proof.code !== undefined ? 'code' : 'password';
      await reauthenticate(userId, proof, meta);
      await db.transaction((tx) => repo.deleteMfa(tx, userId));
      await changed(userId);
      opts.events.emit('mfa.disabled', { userId, method, meta });
    },

    /** Needs the password or a current code, like disabling: an access token alone is not enough (ASVS 4.0.3 3.7.1). */
    async regenerateBackupCodes(userId: string, proof: { code?: string; password?: string }, meta: RequestMeta): Promise<{ backupCodes: string[] }> {
      if (!(await repo.findMfa(db, userId))?.enabledAt) throw new AppError('invalid_state', 'MFA is not enabled');
      await reauthenticate(userId, proof, meta);
      const backupCodes = await db.transaction((tx) => newBackupCodes(tx, userId));
      opts.events.emit('mfa.backup_codes_regenerated', { userId, meta });
      return { backupCodes };
    },

    async createChallenge(userId: string, firstFactor: 'pwd' | 'fed' = 'pwd'): Promise<string> {
      const { id, token, secretHash } = issueToken(CHALLENGE_PREFIX);
      const now = opts.clock.now();
      await repo.insertChallenge(db, { id, userId, secretHash, createdAt: new Date(now), expiresAt: new Date(now + CHALLENGE_TTL_MS), firstFactor });
      return token;
    },

    verifyChallenge(challengeToken: string, code: string, meta: RequestMeta): Promise<{ userId: string } & IssuedTokens> {
      return completeChallenge(challengeToken, 'otp', (userId) => checkSecondFactor(userId, code, meta), meta);
    },

    async findChallengeUser(challengeToken: string): Promise<string | null> {
      return (await liveChallenge(challengeToken))?.userId ?? null;
    },

    verifyChallengeWith(challengeToken, method, prove, meta) {
      return completeChallenge(challengeToken, method, prove, meta);
    },
  };
}
