import { createInvalidatedCache } from '../cache/invalidated-cache.js';
import type { CacheBus } from '../cache/invalidation-bus.js';
import { withTenant, type Database } from '../db/index.js';
import type { Clock } from '../shared/clock.js';
import { findSettings, findTenantBySlug } from './settings.repo.js';

/** Which web origins may call a tenant's public routes (CORS, ADR 0014). */
export interface PublicOrigins {
  /** The tenant's `allowedOrigins`, by public slug; empty for an unknown or synthetic slug. */
  forSlug(slug: string): Promise<readonly string[]>;
}

/**
 * Read-through per slug, so a widget's preflights and requests do not each cost two queries;
 * a settings change publishes `{ kind: 'tenant' }` on the bus and drops the entry everywhere.
 */
export function createPublicOrigins(deps: { db: Database; bus: CacheBus; clock: Clock; ttlSeconds: number; max: number }): PublicOrigins {
  const { db } = deps;
  const cache = createInvalidatedCache<{ tenantId: string; origins: readonly string[] }>({
    bus: deps.bus, clock: deps.clock, ttlSeconds: deps.ttlSeconds, max: deps.max,
  });
  deps.bus.subscribe((m) => {
    if (m.kind === 'tenant') cache.deleteWhere((_slug, v) => v.tenantId === m.tenantId);
  });
  return {
    async forSlug(slug) {
      const entry = await cache.getOrLoad(slug, async () => {
        const tenant = await db.transaction((tx) => findTenantBySlug(tx, slug), undefined, { readOnly: true });
        if (!tenant) return undefined;
        const settings = await withTenant(db, tenant.id, (tx) => findSettings(tx, tenant.id), { readOnly: true });
        return { tenantId: tenant.id, origins: Object.freeze([...settings.allowedOrigins]) };
      });
      return entry?.origins ?? [];
    },
  };
}
