/**
 * The role hierarchy and the resource × action permission matrix, as data. Each role lists only
 * what it adds; it inherits everything granted to the roles below it. `compilePermissions()`
 * turns this into O(1) lookup tables once at startup.
 */
export const ROLES = ['superadmin', 'owner', 'manager', 'staff', 'customer', 'guest'] as const;
export type Role = (typeof ROLES)[number];
/** Roles a tenant membership can hold (superadmin is platform-wide, never a membership). */
export const TENANT_ROLES = ['owner', 'manager', 'staff', 'customer', 'guest'] as const;
export type TenantRole = (typeof TENANT_ROLES)[number];

export const RESOURCES = {
  tenant: ['read', 'write', 'delete', 'manage'],
  members: ['read', 'create', 'write', 'delete', 'manage'],
  invitations: ['read', 'create', 'delete'],
  staff: ['read', 'create', 'write', 'delete'],
  services: ['read', 'create', 'write', 'delete'],
  reservations: ['read', 'create', 'write', 'cancel', 'delete'],
  'reservations:own': ['read', 'create', 'write', 'cancel'],
  customers: ['read', 'create', 'write', 'delete', 'link'],
  availability: ['read', 'write'],
  audit: ['read'],
  api_keys: ['read', 'create', 'delete'],
  settings: ['read', 'write'],
  reports: ['read'],
  webhooks: ['manage'],
} as const;

export type Resource = keyof typeof RESOURCES;
export type Permission = { [R in Resource]: `${R}.${(typeof RESOURCES)[R][number]}` }[Resource];

/** What each role adds on top of the roles below it. */
export const ROLE_GRANTS: Record<Role, readonly Permission[]> = {
  guest: ['tenant.read', 'services.read', 'availability.read'],
  customer: ['reservations:own.read', 'reservations:own.create', 'reservations:own.cancel'],
  staff: [
    'members.read',
    'staff.read',
    'customers.read',
    'customers.create',
    'customers.write',
    'reservations:own.write',
    'settings.read',
  ],
  manager: [
    'members.create',
    'members.write',
    'members.delete',
    'invitations.read',
    'invitations.create',
    'invitations.delete',
    'staff.create',
    'staff.write',
    'staff.delete',
    'services.create',
    'services.write',
    'services.delete',
    'reservations.read',
    'reservations.create',
    'reservations.write',
    'reservations.cancel',
    'reservations.delete',
    'customers.delete',
    'customers.link',
    'availability.write',
    'audit.read',
    'api_keys.read',
    'api_keys.create',
    'api_keys.delete',
    'reports.read',
    'webhooks.manage',
  ],
  owner: ['tenant.write', 'tenant.delete', 'tenant.manage', 'members.manage', 'settings.write'],
  superadmin: [],
};

/** Every permission name in the matrix, e.g. `members.create`. */
export const ALL_PERMISSIONS: readonly Permission[] = Object.entries(RESOURCES).flatMap(([resource, actions]) =>
  actions.map((action) => `${resource}.${action}` as Permission),
);

/** Rank: higher outranks lower. superadmin 5 … guest 0. */
export function rankOf(role: Role): number {
  return ROLES.length - 1 - ROLES.indexOf(role);
}

export function isPermission(value: string): value is Permission {
  return (ALL_PERMISSIONS as readonly string[]).includes(value);
}

/** role → Set of permissions, inheritance resolved. Superadmin holds every permission. */
export type PermissionTable = ReadonlyMap<Role, ReadonlySet<Permission>>;

export function compilePermissions(grants: Record<Role, readonly Permission[]> = ROLE_GRANTS): PermissionTable {
  const table = new Map<Role, ReadonlySet<Permission>>();
  const ascending = [...ROLES].reverse(); // guest first
  let inherited = new Set<Permission>();
  for (const role of ascending) {
    inherited = new Set([...inherited, ...grants[role]]);
    table.set(role, role === 'superadmin' ? new Set(ALL_PERMISSIONS) : inherited);
  }
  return table;
}

/** The compiled default matrix, built once at module load. */
export const PERMISSIONS: PermissionTable = compilePermissions();

export function hasPermission(role: Role, permission: Permission, table: PermissionTable = PERMISSIONS): boolean {
  return table.get(role)?.has(permission) ?? false;
}
