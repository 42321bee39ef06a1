import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Static } from '@fastify/type-provider-typebox';
import type { AuditService } from './audit.service.js';
import { SUPERADMIN, tenantPermission } from '../access/index.js';
import { AppError } from '../errors/index.js';
import { TenantParams } from '../http/schemas.js';
import { encodeCursor } from '../shared/pagination.js';
import type { ChainedAuditRecord } from './audit.core.js';
import type { AuditFilter } from './audit.repo.js';
import { AuditPage, AuditQuery } from './audit.schemas.js';

/** What these routes use of the app's services. */
export interface AuditRouteDeps {
  readonly audit: AuditService;
}


function toFilter(q: Static<typeof AuditQuery>): AuditFilter {
  let beforeSeq: number | null = null;
  if (q.cursor) {
    beforeSeq = Number(Buffer.from(q.cursor, 'base64url').toString('utf8'));
    if (!Number.isSafeInteger(beforeSeq) || beforeSeq < 1) {
      throw new AppError('validation_error', 'Invalid cursor', [{ field: 'cursor', in: 'querystring', message: 'is not a cursor from this list' }]);
    }
  }
  let actorType: string | null = null;
  let actorId: string | null = q.actor ?? null;
  const sep = q.actor?.indexOf(':') ?? -1;
  if (q.actor && sep > 0) {
    actorType = q.actor.slice(0, sep);
    actorId = q.actor.slice(sep + 1);
  }
  return {
    from: q.from ? new Date(q.from) : null,
    to: q.to ? new Date(q.to) : null,
    action: q.action ?? null,
    actorType,
    actorId,
    beforeSeq,
    limit: q.limit + 1,
  };
}

function toPage(rows: ChainedAuditRecord[], limit: number) {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items: items.map((r) => ({
      id: r.id,
      at: r.at.toISOString(),
      tenantId: r.tenantId,
      actor: r.actor,
      action: r.action,
      target: r.target,
      outcome: r.outcome,
      ip: r.ip,
      requestId: r.requestId,
      details: r.details,
    })),
    nextCursor: rows.length > limit && last ? encodeCursor(String(last.seq)) : null,
  };
}

/** The audit trail: a tenant's chain for its owners/managers, the platform chain for superadmins. */
export const auditRoutes: FastifyPluginAsyncTypebox<{ services: AuditRouteDeps }> = async (app, { services }) => {
  app.get('/api/tenants/:tenantId/audit', {
    config: { access: tenantPermission('audit.read') },
    schema: { tags: ['audit'], operationId: 'listTenantAudit', summary: "List the tenant's audit trail", params: TenantParams, querystring: AuditQuery, response: { 200: AuditPage } },
  }, async (request) => toPage(await services.audit.list(request.params.tenantId, toFilter(request.query)), request.query.limit));

  app.get('/api/admin/audit', {
    config: { access: SUPERADMIN },
    schema: { tags: ['audit'], operationId: 'listPlatformAudit', summary: 'List the platform audit trail (superadmins)', querystring: AuditQuery, response: { 200: AuditPage } },
  }, async (request) => toPage(await services.audit.list(null, toFilter(request.query)), request.query.limit));
};
