import type { Actor } from '../access/index.js';
import { lockActiveSuperadmins } from '../auth/account.repo.js';
import { revokeUserSessions } from '../auth/sessions.repo.js';
import { normalizeEmail } from '../auth/users.repo.js';
import type { CacheBus } from '../cache/invalidation-bus.js';
import type { Database } from '../db/index.js';
import { AppError } from '../errors/index.js';
import type { Clock } from '../shared/clock.js';
import type { EventHub } from '../shared/events.js';
import { isUuid } from '../shared/ids.js';
import { decodeCursor, toPage, type Page } from '../shared/pagination.js';
import * as repo from './user-admin.repo.js';

export interface WireAdminUser {
  id: string;
  email: string;
  name: string;
  isSuperadmin: boolean;
  emailVerified: boolean;
  status: repo.UserStatus;
  createdAt: string;
  disabledAt: string | null;
  disabledReason: string | null;
}

function toWire(u: repo.AdminUserRecord): WireAdminUser {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    isSuperadmin: u.isSuperadmin,
    emailVerified: u.emailVerified,
    status: u.deletedAt ? 'deleted' : u.disabledAt ? 'disabled' : 'active',
    createdAt: u.createdAt.toISOString(),
    disabledAt: u.disabledAt?.toISOString() ?? null,
    disabledReason: u.disabledReason,
  };
}

/**
 * Platform user administration for superadmins (issue 18, ADR 0021): list, disable, re-enable.
 * Disabling ends every session of the account on every instance at once: the rows are revoked in
 * the same transaction, the bus drops the cached sessions everywhere, and a session whose account
 * is disabled is dead at its next load whatever its own row says (`sessions.repo` `userBlocked`).
 */
export interface UserAdminService {
  list(q: { cursor?: string; limit: number; emailPrefix?: string; status?: repo.UserStatus }): Promise<Page<WireAdminUser>>;
  disable(actor: Actor, userId: string, reason: string): Promise<WireAdminUser>;
  enable(actor: Actor, userId: string, reason: string): Promise<WireAdminUser>;
}

export function createUserAdminService(deps: { db: Database; bus: CacheBus; clock: Clock; events: EventHub }): UserAdminService {
  const { db } = deps;
  const notFound = () => new AppError('not_found', 'User not found');

  return {
    async list(q) {
      const after = decodeCursor(q.cursor, isUuid);
      const rows = await db.transaction((tx) => repo.listUsers(tx, {
        after, limit: q.limit + 1, status: q.status ?? null,
        emailPrefixNormalized: q.emailPrefix === undefined ? null : normalizeEmail(q.emailPrefix),
      }), undefined, { readOnly: true });
      const page = toPage(rows, q.limit, (u) => u.id);
      return { items: page.items.map(toWire), nextCursor: page.nextCursor };
    },

    async disable(actor, userId, reason) {
      if (!isUuid(userId)) throw notFound();
      if (userId === actor.userId) {
        throw new AppError('invalid_state', 'A superadmin cannot disable its own account', { reason: 'self' });
      }
      const now = new Date(deps.clock.now());
      const result = await db.transaction(async (tx) => {
        // Lock order: the active superadmins (a set that includes the actor), then the target.
        const active = await lockActiveSuperadmins(tx);
        const target = await repo.findUserForAdmin(tx, userId, true);
        if (!target) throw notFound();
        if (target.deletedAt) throw new AppError('invalid_state', 'The account was deleted', { reason: 'deleted' });
        if (target.disabledAt) return { user: target, revoked: [] as string[], changed: false };
        if (target.isSuperadmin && active.filter((id) => id !== userId).length === 0) {
          throw new AppError('invalid_state', 'The last active superadmin cannot be disabled', { reason: 'last_active_superadmin' });
        }
        await repo.setDisabled(tx, userId, now, reason);
        const revoked = await revokeUserSessions(tx, userId, 'user_disabled', now, null);
        return { user: { ...target, disabledAt: now, disabledReason: reason }, revoked, changed: true };
      });
      if (result.changed) {
        // Every instance: cached sessions, memberships and the profile of this user go now.
        await deps.bus.publish({ kind: 'user', userId });
        for (const sessionId of result.revoked) await deps.bus.publish({ kind: 'session', sessionId });
        deps.events.emit('user.disabled', { userId, actorUserId: actor.userId, reason, revokedSessions: result.revoked.length, meta: actor.meta });
      }
      return toWire(result.user);
    },

    async enable(actor, userId, reason) {
      if (!isUuid(userId)) throw notFound();
      const result = await db.transaction(async (tx) => {
        const target = await repo.findUserForAdmin(tx, userId, true);
        if (!target) throw notFound();
        if (target.deletedAt) throw new AppError('invalid_state', 'The account was deleted', { reason: 'deleted' });
        if (!target.disabledAt) return { user: target, changed: false };
        await repo.setDisabled(tx, userId, null, null);
        return { user: { ...target, disabledAt: null, disabledReason: null }, changed: true };
      });
      if (result.changed) {
        await deps.bus.publish({ kind: 'user', userId });
        deps.events.emit('user.enabled', { userId, actorUserId: actor.userId, reason, meta: actor.meta });
      }
      return toWire(result.user);
    },
  };
}
