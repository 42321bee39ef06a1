/**
 * The unified auth layer. A request's credential travels, in this folder only:
 * `credential.ts` (extraction) → `strategy.ts` (the port `auth/` and `api-keys/` implement) →
 * `principal.ts` → `tenant-roles.ts` (the port `tenancy/` implements) → `authorize.core.ts`
 * (the permission matrix of `permissions.ts`) → `pipeline.ts` (the order, the later steps).
 * Operator routes go through `operator.core.ts` instead. Nothing here imports a capability.
 */
export { actorFrom, requestActor, type Actor } from './actor.js';
export { authorize, keyScopeCovers, type Decision, type KeyShortfall, type TenantContext } from './authorize.core.js';
export { digestsEqual, secretsEqual } from './constant-time.js';
export { API_KEY_PREFIX, extractCredential, parseBearer, type Credential } from './credential.js';
export { isLoopbackAddress } from './loopback.js';
export { decideOperator, type OperatorDecision, type OperatorTokens } from './operator.core.js';
export { installPipeline, listRoutes, type PipelineStep, type RouteEntry } from './pipeline.js';
export {
  acceptsApiKeys,
  operator,
  PUBLIC,
  PUBLIC_OR_SIGNED_IN,
  requireAuth,
  requireTenantId,
  requireUser,
  SIGNED_IN,
  SUPERADMIN,
  tenantPermission,
  type AccessPolicy,
  type AuthContext,
  type OperatorScope,
  type RateLimitClass,
} from './policy.js';
export { actingUserId, describePrincipal, type ApiKeyPrincipal, type Principal, type UserPrincipal } from './principal.js';
export { renderRouteTable } from './route-table.core.js';
export { authenticate, type AuthStrategy } from './strategy.js';
export type { TenantRoleLookup } from './tenant-roles.js';
export * from './permissions.js';
