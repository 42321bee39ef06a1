import { randomUUID } from 'node:crypto';
import type { CacheBus } from '../cache/invalidation-bus.js';
import { createInvalidatedCache } from '../cache/invalidated-cache.js';
import type { Database } from '../db/index.js';
import { AppError } from '../errors/index.js';
import type { Clock } from '../shared/clock.js';
import type { EventHub, RequestMeta } from '../shared/events.js';
import { createWriteBehind } from '../shared/write-behind.js';
import type { AccessTokenService } from './access-tokens.service.js';
import { findByToken, issueToken } from './one-time-tokens.js';
import * as repo from './sessions.repo.js';

const REFRESH_PREFIX = 'rt_';
/**
 * Persist last-seen at most this often per session: idle tracking without a write per request.
 * Never more than a quarter of the idle timeout, so the row another instance reads cold is never
 * old enough for it to judge a session in use idle (the timeout may be as short as 60 s).
 */
const TOUCH_INTERVAL_MS = 60_000;
/** Last-seen values due are written together once a second (ADR 0030), not one statement each. */
const LAST_SEEN_FLUSH_MS = 1_000;

export interface SessionState {
  readonly id: string;
  readonly userId: string;
  readonly isSuperadmin: boolean;
  /** RFC 8176 methods this session was authenticated with (`pwd`, `otp`, `hwk`, `user`). */
  readonly amr: readonly string[];
  readonly createdAt: number;
  readonly expiresAt: number;
  lastSeenAt: number;
  persistedLastSeenAt: number;
}

/**
 * RFC 8176 `amr` values Boka issues: password, one-time code (TOTP or backup code), and for a
 * passkey (ADR 0016) proof of possession of a hardware-bound key plus a user-presence test;
 * `fed`, a sign-in federated to an OpenID provider (ADR 0015; not in the RFC 8176 registry, the
 * value Microsoft Entra ID uses for the same fact).
 */
export type SessionAmr = 'pwd' | 'otp' | 'hwk' | 'user' | 'fed';

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  sessionId: string;
}

export interface SessionServiceOptions {
  db: Database;
  bus: CacheBus;
  clock: Clock;
  tokens: AccessTokenService;
  events: EventHub;
  idleTimeoutSeconds: number;
  absoluteLifetimeSeconds: number;
  cacheTtlSeconds: number;
  cacheMax: number;
  onCacheLookup?: (result: 'hit' | 'miss') => void;
  /** A batch of last-seen writes failed (they are dropped; the next use records a fresh one). */
  onTouchError?: (err: unknown) => void;
  /** How long due last-seen values wait to be written together (default 1 s). */
  lastSeenFlushMs?: number;
}

export type SessionCheck =
  | { ok: true; session: SessionState }
  | { ok: false; reason: 'revoked' | 'expired' | 'idle' | 'unknown' };

/**
 * Session lifecycle: creation with a refresh token, liveness checks through an in-process
 * cache (no database read on a hit), refresh rotation with reuse detection, revocation that
 * reaches every instance through the cache bus.
 */
/**
 * Sessions: creation, liveness (cached, bus-invalidated), refresh rotation with reuse
 * detection, and revocation that every instance sees on the next request.
 */
export interface SessionService {
  /**
   * Creates a session and its first token pair (login, signup, MFA completion). `amr` (RFC 8176)
   * says how the user proved who they are: `['pwd']` by default, `['pwd', 'otp']` after MFA.
   */
  create(userId: string, meta: RequestMeta, amr?: readonly SessionAmr[]): Promise<IssuedTokens>;
  /** The live session proved another factor (enabling MFA with a TOTP code); every instance sees it. */
  addAuthMethod(sessionId: string, userId: string, method: SessionAmr): Promise<boolean>;
  /** Is this session live right now? Counts as activity for the idle timeout. */
  check(sessionId: string): Promise<SessionCheck>;
  /** Rotates a refresh token; a reused one revokes the whole session. */
  refresh(refreshToken: string, meta: RequestMeta): Promise<IssuedTokens>;
  /** Revokes one session here and, through the bus, on every instance. */
  revoke(sessionId: string, reason: string, meta?: RequestMeta | null): Promise<boolean>;
  /** The user ends their own session: revocation plus the `auth.logout` event. */
  logout(userId: string, sessionId: string, meta: RequestMeta): Promise<void>;
  /** Revokes every session of a user (optionally keeping one); returns how many. */
  revokeAllForUser(userId: string, reason: string, exceptSessionId?: string | null): Promise<number>;
  listLive(userId: string): Promise<repo.SessionRecord[]>;
  find(sessionId: string): Promise<repo.SessionRecord | null>;
  /** Creation and expiry of a session, from the cache when it is there. */
  describe(sessionId: string): Promise<{ id: string; createdAt: Date; expiresAt: Date } | null>;
  /** Writes the last-seen values waiting for their batch now. */
  flushLastSeen(): Promise<void>;
  /** Stops the batch timer and writes what waits (shutdown). */
  close(): Promise<void>;
}

export function createSessionService(opts: SessionServiceOptions): SessionService {
  const cache = createInvalidatedCache<SessionState>({
    bus: opts.bus,
    clock: opts.clock,
    max: opts.cacheMax,
    ttlSeconds: opts.cacheTtlSeconds,
    onLookup: opts.onCacheLookup,
  });
  const idleMs = opts.idleTimeoutSeconds * 1000;
  const touchIntervalMs = Math.min(TOUCH_INTERVAL_MS, idleMs / 4);
  // Last-seen values not yet in the database (ms since the epoch), written in batches.
  const lastSeen = createWriteBehind<number>({
    intervalMs: opts.lastSeenFlushMs ?? LAST_SEEN_FLUSH_MS,
    write: (batch) => repo.touchSessions(opts.db, batch),
    newer: Math.max,
    onError: (err) => opts.onTouchError?.(err),
  });

  opts.bus.subscribe((message) => {
    if (message.kind === 'session') cache.delete(message.sessionId);
    if (message.kind === 'user_sessions' || message.kind === 'user') {
      cache.deleteWhere((_id, s) => s.userId === message.userId);
    }
  });

  function toState(r: repo.SessionRecord): SessionState {
    return {
      id: r.id,
      userId: r.userId,
      isSuperadmin: r.isSuperadmin,
      amr: r.amr,
      createdAt: r.createdAt.getTime(),
      expiresAt: r.expiresAt.getTime(),
      lastSeenAt: r.lastSeenAt.getTime(),
      persistedLastSeenAt: r.lastSeenAt.getTime(),
    };
  }

  function judge(s: SessionState, now: number): SessionCheck {
    if (now >= s.expiresAt) return { ok: false, reason: 'expired' };
    if (now - s.lastSeenAt >= idleMs) return { ok: false, reason: 'idle' };
    return { ok: true, session: s };
  }

  async function issueRefreshToken(tx: Parameters<Parameters<Database['transaction']>[0]>[0], sessionId: string, now: number) {
    const { id, token, secretHash } = issueToken(REFRESH_PREFIX);
    await repo.insertRefreshToken(tx, { id, sessionId, secretHash, createdAt: new Date(now) });
    return token;
  }

  /** Revokes one session here and, through the bus, on every instance. */
  async function revoke(sessionId: string, reason: string, meta: RequestMeta | null = null): Promise<boolean> {
    const userId = await repo.revokeSession(opts.db, sessionId, reason, new Date(opts.clock.now()));
    cache.delete(sessionId);
    await opts.bus.publish({ kind: 'session', sessionId });
    if (userId) opts.events.emit('session.revoked', { userId, sessionId, reason, meta });
    return userId !== null;
  }

  return {
    /** Creates a session and its first token pair (login, signup, MFA completion). */
    async addAuthMethod(sessionId, userId, method) {
      const changed = await repo.addSessionAmr(opts.db, sessionId, userId, method);
      cache.delete(sessionId);
      await opts.bus.publish({ kind: 'session', sessionId });
      return changed;
    },

    async create(userId: string, meta: RequestMeta, amr: readonly SessionAmr[] = ['pwd']): Promise<IssuedTokens> {
      const now = opts.clock.now();
      const sessionId = randomUUID();
      try {
        const refreshToken = await opts.db.transaction(async (tx) => {
          // Every sign-in (password, passkey, OIDC, MFA step) ends here: a disabled or deleted
          // account never gets a session, whichever way it proved who it is (ADR 0021).
          if (!(await repo.lockLiveAccount(tx, userId))) {
            opts.events.emit('auth.login_failed', { userId, reason: 'account_disabled', meta });
            throw new AppError('account_disabled', 'This account has been disabled by a platform administrator');
          }
          await repo.insertSession(tx, {
            id: sessionId,
            userId,
            createdAt: new Date(now),
            expiresAt: new Date(now + opts.absoluteLifetimeSeconds * 1000),
            ip: meta.ip,
            userAgent: meta.userAgent,
            amr,
          });
          return issueRefreshToken(tx, sessionId, now);
        });
        const access = await opts.tokens.sign({ userId, sessionId });
        opts.events.emit('session.created', { userId, sessionId, result: 'ok' });
        return { accessToken: access.token, refreshToken, expiresIn: access.expiresIn, sessionId };
      } catch (err) {
        opts.events.emit('session.created', { userId, sessionId: null, result: 'error' });
        throw err;
      }
    },

    /**
     * Is this session live right now? Served from the cache when possible; a miss reads the
     * database once. Counts as activity for the idle timeout.
     */
    async check(sessionId: string): Promise<SessionCheck> {
      const now = opts.clock.now();
      let missing: 'unknown' | 'revoked' | null = null; // set when this call's own load ran
      const state = await cache.getOrLoad(sessionId, async () => {
        const row = await repo.findSession(opts.db, sessionId);
        missing = row ? 'revoked' : 'unknown';
        // A disabled or deleted account's sessions die here, whatever their own state says.
        if (!row || row.revokedAt || row.userBlocked) return undefined;
        // A background refresh must not lose the activity recorded on the entry it replaces.
        // Nor the last-seen value this instance has recorded but not yet written.
        const fresh = toState(row);
        const current = cache.peek(sessionId);
        const waiting = lastSeen.get(sessionId) ?? 0;
        fresh.lastSeenAt = Math.max(fresh.lastSeenAt, current?.lastSeenAt ?? 0, waiting);
        fresh.persistedLastSeenAt = Math.max(fresh.persistedLastSeenAt, current?.persistedLastSeenAt ?? 0, waiting);
        return fresh;
      });
      // A caller that joined another request's load learns the reason with one more read.
      if (!state) return { ok: false, reason: missing ?? ((await repo.findSession(opts.db, sessionId)) ? 'revoked' : 'unknown') };
      const verdict = judge(state, now);
      if (!verdict.ok) {
        cache.delete(sessionId);
        if (verdict.reason === 'idle' || verdict.reason === 'expired') await revoke(sessionId, verdict.reason);
        return verdict;
      }
      state.lastSeenAt = now;
      if (now - state.persistedLastSeenAt >= touchIntervalMs) {
        state.persistedLastSeenAt = now;
        lastSeen.set(sessionId, now);
      }
      return verdict;
    },

    /**
     * Rotates a refresh token (RFC 6749 §10.4, OAuth 2.0 Security BCP §4.14). A token that was
     * already used is treated as stolen: the whole session is revoked. There is no grace
     * window, so a client must not send the same refresh token twice concurrently.
     */
    async refresh(refreshToken: string, meta: RequestMeta): Promise<IssuedTokens> {
      const record = await findByToken(refreshToken, REFRESH_PREFIX, (id) => repo.findRefreshToken(opts.db, id), (r) => r.secretHash);
      if (!record) throw new AppError('invalid_token', 'The refresh token is invalid');
      const session = await repo.findSession(opts.db, record.sessionId);
      const now = opts.clock.now();
      if (!session || session.revokedAt || session.userBlocked || !judge(toState(session), now).ok) {
        throw new AppError('invalid_token', 'The session has ended');
      }
      const rotated = await opts.db.transaction(async (tx) => {
        if (!(await repo.markRefreshTokenUsed(tx, record.id, new Date(now)))) return null;
        await repo.touchSession(tx, session.id, new Date(now));
        return issueRefreshToken(tx, session.id, now);
      });
      if (rotated === null) {
        await revoke(session.id, 'refresh_reuse', meta);
        opts.events.emit('auth.refresh_reuse', { userId: session.userId, sessionId: session.id, meta });
        throw new AppError('invalid_token', 'The refresh token was already used; the session has been revoked', {
          reason: 'refresh_token_reuse',
        });
      }
      const cached = cache.peek(session.id);
      if (cached) cached.lastSeenAt = cached.persistedLastSeenAt = now;
      const access = await opts.tokens.sign({ userId: session.userId, sessionId: session.id });
      return { accessToken: access.token, refreshToken: rotated, expiresIn: access.expiresIn, sessionId: session.id };
    },

    revoke,

    async logout(userId: string, sessionId: string, meta: RequestMeta): Promise<void> {
      await revoke(sessionId, 'logout', meta);
      opts.events.emit('auth.logout', { userId, sessionId, meta });
    },

    /** Revokes every session of a user (optionally keeping one), e.g. after a password change. */
    async revokeAllForUser(userId: string, reason: string, exceptSessionId: string | null = null): Promise<number> {
      const ids = await repo.revokeUserSessions(opts.db, userId, reason, new Date(opts.clock.now()), exceptSessionId);
      for (const id of ids) {
        cache.delete(id);
        await opts.bus.publish({ kind: 'session', sessionId: id });
      }
      return ids.length;
    },

    listLive(userId: string) {
      return repo.listLiveSessions(opts.db, userId, new Date(opts.clock.now()), opts.idleTimeoutSeconds);
    },

    find: (sessionId: string) => repo.findSession(opts.db, sessionId),

    /** Creation and expiry of a session that is in the cache (it is after `check`), else from the database. */
    async describe(sessionId: string): Promise<{ id: string; createdAt: Date; expiresAt: Date } | null> {
      const cached = cache.peek(sessionId);
      const s = cached ? { createdAt: new Date(cached.createdAt), expiresAt: new Date(cached.expiresAt) } : await repo.findSession(opts.db, sessionId);
      return s ? { id: sessionId, createdAt: s.createdAt, expiresAt: s.expiresAt } : null;
    },

    flushLastSeen: () => lastSeen.flush(),
    close: () => lastSeen.close(),
  };
}

