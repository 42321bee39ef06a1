import type { PipelineStep } from '../access/index.js';
import { requestMeta } from '../http/request-meta.js';
import type { EventHub } from '../shared/events.js';

/**
 * Superadmins can read any tenant; every such request, and every platform-admin request, is
 * audited (the event is emitted before the handler runs, so a failed action is recorded too).
 */
export function createSuperadminAuditStep(events: EventHub): PipelineStep {
  return (request, auth, policy) => {
    if (!auth || auth.role !== 'superadmin' || auth.principal.kind !== 'user') return;
    if (!('permission' in policy) && !('superadmin' in policy)) return;
    events.emit('superadmin.access', {
      userId: auth.principal.userId,
      tenantId: auth.tenantId,
      method: request.method,
      route: request.routeOptions.url ?? request.url,
      meta: requestMeta(request),
    });
  };
}
