import type { TenantRole, TenantRoleLookup } from '../access/index.js';
import type { CacheBus } from '../cache/invalidation-bus.js';
import { createInvalidatedCache } from '../cache/invalidated-cache.js';
import type { Clock } from '../shared/clock.js';
import { withTenant, type Database } from '../db/index.js';
import { findActiveMemberRole } from './members.repo.js';

/**
 * Membership role per (tenant, user), cached in process. Role changes and removals publish an
 * invalidation, so the member's very next request sees the new role on every instance.
 */
export interface MembershipResolver extends TenantRoleLookup {
  /** Drops the entry here and on every other instance. */
  invalidate(tenantId: string, userId: string): Promise<void>;
}

export function createMembershipResolver(opts: {
  db: Database;
  bus: CacheBus;
  clock: Clock;
  ttlSeconds: number;
  max: number;
  onCacheLookup?: (result: 'hit' | 'miss') => void;
}): MembershipResolver {
  // `null` (not a member) is cached too, so probing foreign tenants costs no database reads.
  const cache = createInvalidatedCache<{ role: TenantRole | null }>({
    bus: opts.bus,
    clock: opts.clock,
    max: opts.max,
    ttlSeconds: opts.ttlSeconds,
    onLookup: opts.onCacheLookup,
  });
  const keyOf = (tenantId: string, userId: string) => `${tenantId}:${userId}`;

  opts.bus.subscribe((m) => {
    if (m.kind === 'membership') cache.delete(keyOf(m.tenantId, m.userId));
    if (m.kind === 'user') cache.deleteWhere((key) => key.endsWith(`:${m.userId}`));
  });

  return {
    async resolve(tenantId: string, userId: string): Promise<TenantRole | null> {
      const entry = await cache.getOrLoad(keyOf(tenantId, userId), async () => ({
        role: await withTenant(opts.db, tenantId, (tx) => findActiveMemberRole(tx, tenantId, userId), { readOnly: true }),
      }));
      return entry!.role;
    },
    async invalidate(tenantId: string, userId: string): Promise<void> {
      cache.delete(keyOf(tenantId, userId));
      await opts.bus.publish({ kind: 'membership', tenantId, userId });
    },
  };
}
