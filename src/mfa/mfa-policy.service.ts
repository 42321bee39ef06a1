import type { TenantRole } from '../access/index.js';
import { createInvalidatedCache } from '../cache/invalidated-cache.js';
import type { CacheBus } from '../cache/invalidation-bus.js';
import { withTenant, type Database } from '../db/index.js';
import type { Clock } from '../shared/clock.js';
import type { EventHub, RequestMeta } from '../shared/events.js';
import { readPolicy, writePolicy } from './mfa-policy.repo.js';

/** Tenant MFA policy: which member roles must use a second factor (ASVS 4.3.1). */
export interface MfaPolicyService {
  /** The roles the tenant's policy names (cached; bus-invalidated on change). */
  get(tenantId: string): Promise<TenantRole[]>;
  /** Replaces the policy and emits `tenant.security_policy_changed`. */
  set(tenantId: string, roles: TenantRole[], actor: { userId: string; meta: RequestMeta }): Promise<void>;
}

/**
 * Cached per tenant. A change publishes a `tenant` invalidation, so every instance enforces
 * it from the next request.
 */
export function createMfaPolicyService(opts: { db: Database; bus: CacheBus; clock: Clock; events: EventHub; cacheTtlSeconds: number }): MfaPolicyService {
  const cache = createInvalidatedCache<{ roles: TenantRole[] }>({ bus: opts.bus, clock: opts.clock, max: 100_000, ttlSeconds: opts.cacheTtlSeconds });
  opts.bus.subscribe((m) => {
    if (m.kind === 'tenant') cache.delete(m.tenantId);
  });
  return {
    async get(tenantId) {
      const entry = await cache.getOrLoad(tenantId, async () => ({ roles: await withTenant(opts.db, tenantId, (tx) => readPolicy(tx, tenantId), { readOnly: true }) }));
      return entry!.roles;
    },
    async set(tenantId, roles, actor) {
      await withTenant(opts.db, tenantId, (tx) => writePolicy(tx, tenantId, roles));
      cache.delete(tenantId);
      await opts.bus.publish({ kind: 'tenant', tenantId });
      opts.events.emit('tenant.security_policy_changed', { tenantId, actorUserId: actor.userId, requireMfaFor: roles, meta: actor.meta });
    },
  };
}
