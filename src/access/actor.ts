import type { FastifyRequest } from 'fastify';
import { requestMeta } from '../http/request-meta.js';
import type { RequestMeta } from '../shared/events.js';
import { authorize } from './authorize.core.js';
import type { Permission, Role } from './permissions.js';
import type { AuthContext } from './policy.js';
import { actingUserId } from './principal.js';

/**
 * Who acts, as services see it: the user behind the credential (an API key acts for its
 * creator), their standing, a permission check that is `authorize()` itself (so a key's
 * own ∩ its creator's role is decided in one place), and where the request came from, for
 * the domain events the service emits.
 */
export interface Actor {
  readonly userId: string;
  /** The caller's role in the tenant the request targets; `guest` outside any tenant. */
  readonly role: Role;
  readonly meta: RequestMeta;
  can(permission: Permission): boolean;
}

export function actorFrom(auth: AuthContext, meta: RequestMeta): Actor {
  const role: Role = auth.role ?? 'guest';
  const tenant = auth.tenantId === null ? null : { tenantId: auth.tenantId, role: role === 'superadmin' ? null : role };
  return { userId: actingUserId(auth.principal), role, meta, can: (permission) => authorize(auth.principal, permission, tenant).allowed };
}

/** The actor of a request that passed a non-public policy. */
export function requestActor(request: FastifyRequest): Actor {
  if (!request.auth) throw new Error('route handler reached without an auth context; check its access policy');
  return actorFrom(request.auth, requestMeta(request));
}
