import { hasPermission, type Permission, type PermissionTable, PERMISSIONS, TENANT_ROLES } from './permissions.js';
import type { RouteEntry } from './pipeline.js';
import { acceptsApiKeys, type AccessPolicy } from './policy.js';

/** Who passes a policy, in words, for the route table of docs/permissions.md. */
function describePolicy(policy: AccessPolicy, table: PermissionTable): { policy: string; roles: string; apiKeys: string } {
  if ('public' in policy) return { policy: 'public', roles: 'anyone', apiKeys: 'not needed' };
  if ('authenticated' in policy) return { policy: 'signed in', roles: 'any signed-in user', apiKeys: 'no' };
  if ('superadmin' in policy) return { policy: 'superadmin', roles: 'superadmin', apiKeys: 'no' };
  if ('operator' in policy) return { policy: `operator \`${policy.operator}\``, roles: 'operator token (or loopback when unset)', apiKeys: 'no' };
  const roles = ['superadmin', ...TENANT_ROLES.filter((r) => hasPermission(r, policy.permission, table))];
  return { policy: `\`${policy.permission}\``, roles: roles.join(', '), apiKeys: acceptsApiKeys(policy) ? keyRequirement(policy.permission) : 'no (people only)' };
}

/** What a key's own scope must hold for `permission`; its ceiling must grant it too. */
function keyRequirement(permission: Permission): string {
  const own = /^([a-z_]+):own\.([a-z_]+)$/.exec(permission);
  return own ? `with \`${own[1]}.${own[2]}\`` : `with \`${permission}\``;
}

/**
 * The route table of docs/permissions.md, rendered from the route registry (`listRoutes`), so
 * it cannot drift: test/api-keys/permissions-doc.test.ts fails when the document differs.
 */
export function renderRouteTable(routes: readonly RouteEntry[], table: PermissionTable = PERMISSIONS): string {
  const rows = [...routes]
    .sort((a, b) => a.url.localeCompare(b.url) || a.method.localeCompare(b.method))
    .map((r) => {
      const d = describePolicy(r.access, table);
      return `| ${r.method} | \`${r.url}\` | ${d.policy} | ${d.roles} | ${d.apiKeys} |`;
    });
  return ['| method | route | needs | roles that pass | API keys |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}
