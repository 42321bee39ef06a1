import { randomUUID } from 'node:crypto';
import type { CacheBus } from '../cache/invalidation-bus.js';
import { createInvalidatedCache } from '../cache/invalidated-cache.js';
import type { Clock } from '../shared/clock.js';
import type { EventHub, RequestMeta } from '../shared/events.js';
import type { Actor, Role, TenantRole } from '../access/index.js';
import { isUniqueViolation } from '../db/errors.js';
import { withTenant, withUser, type Database } from '../db/index.js';
import { AppError } from '../errors/index.js';
import { decodeCursor, toPage } from '../shared/pagination.js';
import { isUuid } from '../shared/ids.js';
import { revokePendingByInviter } from '../invitations/invitations.repo.js';
import { checkRoleAssignment, invitableRoles } from './escalation.core.js';
import * as members from './members.repo.js';
import type { MembershipResolver } from './memberships.cache.js';
import * as tenants from './tenants.repo.js';

export interface PublicTenant {
  readonly id: string;
  readonly name: string;
  readonly slug: string;
  readonly createdAt: string;
}

export function toPublicTenant(t: tenants.TenantRecord): PublicTenant {
  return { id: t.id, name: t.name, slug: t.slug, createdAt: t.createdAt.toISOString() };
}

/**
 * Tenants and memberships. Every method on tenant data takes the tenant id first; each change
 * emits its domain event (tenant.created, member.role_change, member.removed; joining is
 * `invitation.accepted`),
 * so the audit trail is the same whoever calls.
 */
export interface TenancyService {
  /** The caller becomes the tenant's first owner. 409 `duplicate_resource` on a taken slug. */
  createTenant(owner: { userId: string; meta: RequestMeta }, input: { name: string; slug: string }): Promise<PublicTenant>;
  /** Cached; 404 when the tenant does not exist. */
  getTenant(tenantId: string): Promise<PublicTenant>;
  /** Call after any change to a tenant row (name, slug, deletion): drops it on every instance. */
  invalidateTenant(tenantId: string): Promise<void>;
  listMembershipsOf(userId: string): Promise<tenants.UserMembership[]>;
  listMembers(tenantId: string, query: { cursor?: string; limit: number }): Promise<{ items: members.MemberRecord[]; nextCursor: string | null }>;
  /** Returns the member with the new role; the last owner cannot be demoted. */
  changeRole(tenantId: string, actor: Actor, userId: string, role: TenantRole): Promise<members.MemberRecord>;
  removeMember(tenantId: string, actor: Actor, userId: string): Promise<void>;
  getMember(tenantId: string, userId: string): Promise<members.MemberRecord | null>;
}

export function createTenancyService(deps: {
  db: Database;
  events: EventHub;
  memberships: MembershipResolver;
  bus: CacheBus;
  clock: Clock;
  cacheTtlSeconds: number;
  onTenantLookup?: (result: 'hit' | 'miss') => void;
  onUserMembershipsLookup?: (result: 'hit' | 'miss') => void;
}): TenancyService {
  const { db } = deps;
  // Tenant records are read on every tenant request and change rarely: cache them, and drop an
  // entry on every instance through the bus when the tenant changes (`invalidateTenant`).
  const tenantCache = createInvalidatedCache<ReturnType<typeof toPublicTenant>>({
    bus: deps.bus,
    clock: deps.clock,
    max: 10_000,
    ttlSeconds: deps.cacheTtlSeconds,
    onLookup: deps.onTenantLookup,
  });
  // Each user's membership list (GET /api/auth/me), invalidated by the same messages.
  const userMembershipsCache = createInvalidatedCache<{ items: tenants.UserMembership[] }>({
    bus: deps.bus,
    clock: deps.clock,
    max: 10_000,
    ttlSeconds: deps.cacheTtlSeconds,
    onLookup: deps.onUserMembershipsLookup,
  });
  deps.bus.subscribe((m) => {
    if (m.kind === 'tenant') {
      tenantCache.delete(m.tenantId);
      userMembershipsCache.deleteWhere((_user, list) => list.items.some((i) => i.tenantId === m.tenantId));
    }
    if (m.kind === 'membership' || m.kind === 'user') userMembershipsCache.delete(m.userId);
  });

  function assertAssignable(actorRole: Role, current: TenantRole | null, next: TenantRole | null) {
    const check = checkRoleAssignment(actorRole, current, next);
    if (!check.ok) throw new AppError('insufficient_permissions', check.reason, { required: 'members.manage', role: actorRole });
  }

  // Invitations carry their inviter's authority: when it drops, the ones it no longer covers go.
  function emitRevoked(tenantId: string, actor: Actor, ids: readonly string[]) {
    for (const invitationId of ids) deps.events.emit('invitation.revoked', { tenantId, invitationId, actorUserId: actor.userId, meta: actor.meta });
  }

  function getMember(tenantId: string, userId: string): Promise<members.MemberRecord | null> {
    return withTenant(db, tenantId, (tx) => members.findMember(tx, tenantId, userId), { readOnly: true });
  }

  return {
    async createTenant(owner, input) {
      const id = randomUUID();
      try {
        const tenant = await withTenant(db, id, async (tx) => {
          const t = await tenants.insertTenant(tx, { id, ...input });
          await members.insertMember(tx, id, owner.userId, 'owner');
          return t;
        });
        await deps.memberships.invalidate(id, owner.userId);
        deps.events.emit('tenant.created', { tenantId: id, userId: owner.userId, meta: owner.meta });
        return toPublicTenant(tenant);
      } catch (err) {
        if (isUniqueViolation(err)) throw new AppError('duplicate_resource', 'A tenant with this slug already exists', { field: 'slug' });
        throw err;
      }
    },

    async getTenant(tenantId) {
      const tenant = await tenantCache.getOrLoad(tenantId, async () => {
        const row = await withTenant(db, tenantId, (tx) => tenants.findTenant(tx, tenantId), { readOnly: true });
        return row ? toPublicTenant(row) : undefined;
      });
      if (!tenant) throw new AppError('not_found', 'Tenant not found');
      return tenant;
    },

    async invalidateTenant(tenantId) {
      tenantCache.delete(tenantId);
      await deps.bus.publish({ kind: 'tenant', tenantId });
    },

    async listMembershipsOf(userId) {
      const list = await userMembershipsCache.getOrLoad(userId, async () => ({
        items: await withUser(db, userId, (tx) => tenants.listUserMemberships(tx, userId), { readOnly: true }),
      }));
      return list!.items;
    },

    async listMembers(tenantId, query) {
      const after = decodeCursor(query.cursor, isUuid);
      const rows = await withTenant(db, tenantId, (tx) => members.listMembers(tx, tenantId, { after, limit: query.limit + 1 }), { readOnly: true });
      return toPage(rows, query.limit, (m) => m.userId);
    },

    async changeRole(tenantId, actor, userId, role) {
      const previous = await withTenant(db, tenantId, async (tx) => {
        const ownerCount = await members.countOwnersForUpdate(tx, tenantId);
        const current = await members.findMemberRole(tx, tenantId, userId);
        if (!current) throw new AppError('not_found', 'Member not found');
        assertAssignable(actor.role, current, role);
        if (current === 'owner' && role !== 'owner' && ownerCount <= 1) {
          throw new AppError('invalid_state', 'The last owner cannot be demoted; make another member owner first');
        }
        await members.updateMemberRole(tx, tenantId, userId, role);
        const revoked = await revokePendingByInviter(tx, tenantId, userId, invitableRoles(role), new Date(deps.clock.now()));
        return { current, revoked };
      });
      await deps.memberships.invalidate(tenantId, userId);
      deps.events.emit('member.role_change', { tenantId, actorUserId: actor.userId, userId, from: previous.current, to: role, meta: actor.meta });
      emitRevoked(tenantId, actor, previous.revoked);
      const member = await getMember(tenantId, userId);
      if (!member) throw new AppError('not_found', 'Member not found');
      return member;
    },

    async removeMember(tenantId, actor, userId) {
      const revoked = await withTenant(db, tenantId, async (tx) => {
        const ownerCount = await members.countOwnersForUpdate(tx, tenantId);
        const current = await members.findMemberRole(tx, tenantId, userId);
        if (!current) throw new AppError('not_found', 'Member not found');
        assertAssignable(actor.role, current, null);
        if (current === 'owner' && ownerCount <= 1) {
          throw new AppError('invalid_state', 'The last owner cannot be removed');
        }
        await members.deleteMember(tx, tenantId, userId);
        return revokePendingByInviter(tx, tenantId, userId, [], new Date(deps.clock.now()));
      });
      await deps.memberships.invalidate(tenantId, userId);
      deps.events.emit('member.removed', { tenantId, actorUserId: actor.userId, userId, meta: actor.meta });
      emitRevoked(tenantId, actor, revoked);
    },

    getMember,
  };
}

