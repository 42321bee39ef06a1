import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppServices } from '../app-services.js';
import { hasPermission, type TenantRole } from '../auth/permissions.js';
import { createBusCache } from '../cache/bus-cache.js';
import type { CacheBus } from '../cache/cache-bus.js';
import type { Clock } from '../shared/clock.js';
import { withTenant, type Database, type Queryable } from '../db/index.js';
import { requireAuth, tenantPermission } from '../http/access.js';
import { AppError } from '../http/app-error.js';
import type { PipelineStep } from '../http/pipeline.js';
import { requestMeta } from '../http/request-meta.js';
import { TenantParams } from '../http/schemas.js';
import { SecurityPolicy } from './mfa.schemas.js';
import type { MfaService } from './mfa.service.js';

async function readPolicy(tx: Queryable, tenantId: string): Promise<TenantRole[]> {
  const res = await tx.query<{ roles: TenantRole[] }>(`SELECT require_mfa_for AS roles FROM tenant_security_policies WHERE tenant_id = $1`, [tenantId]);
  return res.rows[0]?.roles ?? [];
}

async function writePolicy(tx: Queryable, tenantId: string, roles: readonly string[]): Promise<void> {
  await tx.query(
    `INSERT INTO tenant_security_policies (tenant_id, require_mfa_for) VALUES ($1, $2)
     ON CONFLICT (tenant_id) DO UPDATE SET require_mfa_for = EXCLUDED.require_mfa_for, updated_at = now()`,
    [tenantId, roles],
  );
}

/**
 * Tenant MFA policy (`requireMfaFor: ['owner','manager']`, ASVS 4.3.1), cached per tenant. A
 * change publishes a `tenant` invalidation, so every instance enforces it from the next request.
 */
export function createMfaPolicyService(opts: { db: Database; bus: CacheBus; clock: Clock; cacheTtlSeconds: number }) {
  const cache = createBusCache<{ roles: TenantRole[] }>({ bus: opts.bus, clock: opts.clock, max: 100_000, ttlSeconds: opts.cacheTtlSeconds });
  opts.bus.subscribe((m) => {
    if (m.kind === 'tenant') cache.delete(m.tenantId);
  });
  return {
    async get(tenantId: string): Promise<TenantRole[]> {
      const entry = await cache.getOrLoad(tenantId, async () => ({ roles: await withTenant(opts.db, tenantId, (tx) => readPolicy(tx, tenantId), { readOnly: true }) }));
      return entry!.roles;
    },
    async set(tenantId: string, roles: TenantRole[]): Promise<void> {
      await withTenant(opts.db, tenantId, (tx) => writePolicy(tx, tenantId, roles));
      cache.delete(tenantId);
      await opts.bus.publish({ kind: 'tenant', tenantId });
    },
  };
}

export type MfaPolicyService = ReturnType<typeof createMfaPolicyService>;

/**
 * Tenant administration = any permission the `staff` role does not hold (managing members,
 * invitations, API keys, audit, services, settings…), derived from the matrix, not listed.
 */
export function isAdminPermission(permission: Parameters<typeof hasPermission>[1]): boolean {
  return !hasPermission('staff', permission);
}

/** Pipeline step: members whose role the tenant's policy names get 403 `mfa_required` on admin routes until they enrol. */
export function createMfaPolicyStep(policies: MfaPolicyService, mfa: Pick<MfaService, 'isEnabled'>): PipelineStep {
  return async (_request, auth, policy) => {
    if (!auth || !('permission' in policy) || !auth.tenantId || auth.principal.kind !== 'user') return;
    const role = auth.role;
    if (!role || role === 'superadmin' || !isAdminPermission(policy.permission)) return;
    const required = await policies.get(auth.tenantId);
    if (!required.includes(role)) return;
    if (await mfa.isEnabled(auth.principal.userId)) return;
    throw new AppError('mfa_required', 'This tenant requires multi-factor authentication for your role; enrol at /api/auth/mfa/totp/setup', { role, enrol: '/api/auth/mfa/totp/setup' }, { status: 403 });
  };
}

export const mfaPolicyRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  app.get('/api/tenants/:tenantId/security-policy', {
    config: { access: tenantPermission('settings.read') },
    schema: { tags: ['mfa'], params: TenantParams, response: { 200: SecurityPolicy } },
  }, async (request) => ({ requireMfaFor: (await services.mfaPolicies.get(request.params.tenantId)).filter((r) => r !== 'customer' && r !== 'guest') as Array<'owner' | 'manager' | 'staff'> }));

  app.put('/api/tenants/:tenantId/security-policy', {
    config: { access: tenantPermission('tenant.manage') },
    schema: { tags: ['mfa'], params: TenantParams, body: SecurityPolicy, response: { 200: SecurityPolicy } },
  }, async (request) => {
    const auth = requireAuth(request.auth);
    const actorUserId = auth.principal.kind === 'user' ? auth.principal.userId : auth.principal.creatorUserId;
    await services.mfaPolicies.set(request.params.tenantId, request.body.requireMfaFor);
    services.events.emit('tenant.security_policy_changed', {
      tenantId: request.params.tenantId,
      actorUserId,
      requireMfaFor: request.body.requireMfaFor,
      meta: requestMeta(request),
    });
    return { requireMfaFor: request.body.requireMfaFor };
  });
};
