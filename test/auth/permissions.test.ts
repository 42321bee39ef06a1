import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { authorize } from '../../src/access/authorize.core.js';
import {
  ALL_PERMISSIONS,
  PERMISSIONS,
  rankOf,
  ROLES,
  TENANT_ROLES,
  type Permission,
  type Role,
} from '../../src/access/permissions.js';
import type { Principal } from '../../src/access/principal.js';
import { TenantRoleSchema } from '../../src/tenancy/tenancy.schemas.js';

const TENANT = '11111111-1111-4111-8111-111111111111';
const OTHER_TENANT = '22222222-2222-4222-8222-222222222222';
const user = (isSuperadmin = false): Principal => ({ kind: 'user', userId: 'u', sessionId: 's', isSuperadmin });

/** docs/permissions.md parsed into role → set of permissions. */
function documentedMatrix(): Map<Role, Set<string>> {
  const doc = readFileSync(new URL('../../docs/permissions.md', import.meta.url), 'utf8');
  const lines = doc.split('\n').filter((l) => l.startsWith('| '));
  const header = lines[0]!.split('|').map((c) => c.trim()).filter(Boolean).slice(1) as Role[];
  const matrix = new Map<Role, Set<string>>(header.map((r) => [r, new Set()]));
  for (const line of lines.slice(2)) {
    const cells = line.split('|').map((c) => c.trim()).filter(Boolean);
    const permission = cells[0]!.replaceAll('`', '');
    header.forEach((role, i) => {
      if (cells[i + 1] === '✓') matrix.get(role)!.add(permission);
    });
  }
  return matrix;
}

describe('permission matrix', () => {
  test('docs/permissions.md lists every role and permission, exactly as compiled', () => {
    const documented = documentedMatrix();
    assert.deepEqual([...documented.keys()], [...ROLES]);
    for (const role of ROLES) {
      assert.deepEqual([...documented.get(role)!].sort(), [...PERMISSIONS.get(role)!].sort(), `role ${role}`);
    }
  });

  // Every role × resource × action: the decision follows the table, and hierarchy holds.
  for (const role of TENANT_ROLES) {
    for (const permission of ALL_PERMISSIONS) {
      test(`${role} × ${permission}`, () => {
        const decision = authorize(user(), permission, { tenantId: TENANT, role });
        const expected = PERMISSIONS.get(role)!.has(permission);
        assert.equal(decision.allowed, expected);
        if (!decision.allowed) {
          assert.deepEqual(decision, { allowed: false, reason: 'insufficient_permissions', required: permission, role });
        }
        // A role has every permission of the roles below it.
        for (const lower of TENANT_ROLES.filter((r) => rankOf(r) < rankOf(role))) {
          if (PERMISSIONS.get(lower)!.has(permission)) assert.ok(expected, `${role} must inherit ${permission} from ${lower}`);
        }
      });
    }
  }

  test('superadmin is allowed everything, in any tenant, without a membership', () => {
    for (const permission of ALL_PERMISSIONS) {
      assert.deepEqual(authorize(user(true), permission, { tenantId: TENANT, role: null }), { allowed: true, role: 'superadmin' });
    }
  });

  test('a non-member is denied with tenant_mismatch, whatever the permission', () => {
    for (const permission of ALL_PERMISSIONS) {
      const d = authorize(user(), permission, { tenantId: TENANT, role: null });
      assert.equal(d.allowed, false);
      assert.equal(!d.allowed && d.reason, 'tenant_mismatch');
    }
  });

  test('a pre-008 API key (no ceiling) is limited to its tenant and to its permissions ∩ the creator role', () => {
    const key = (permissions: Permission[]): Principal => ({
      kind: 'api_key',
      keyId: 'k',
      tenantId: TENANT,
      permissions: new Set(permissions),
      ceiling: null,
      rateLimitPerMinute: null,
      creatorUserId: 'u',
    });
    const k = key(['services.read', 'services.create', 'tenant.delete']);
    assert.equal(authorize(k, 'services.read', { tenantId: TENANT, role: 'manager' }).allowed, true);
    assert.equal(authorize(k, 'staff.read', { tenantId: TENANT, role: 'manager' }).allowed, false, 'not in the key');
    assert.equal(authorize(k, 'tenant.delete', { tenantId: TENANT, role: 'manager' }).allowed, false, 'creator lacks it');
    assert.equal(authorize(k, 'services.create', { tenantId: TENANT, role: 'staff' }).allowed, false, 'creator demoted');
    const foreign = authorize(k, 'services.read', { tenantId: OTHER_TENANT, role: 'owner' });
    assert.equal(!foreign.allowed && foreign.reason, 'tenant_mismatch');
    const orphan = authorize(k, 'services.read', { tenantId: TENANT, role: null });
    assert.equal(!orphan.allowed && orphan.reason, 'tenant_mismatch', 'creator removed: a pre-008 key dies');
  });

  test('a service-principal key acts with its ceiling, never with its creator standing (ADR 0017)', () => {
    const key: Principal = {
      kind: 'api_key',
      keyId: 'k',
      tenantId: TENANT,
      permissions: new Set<Permission>(['services.read', 'reservations.read', 'staff.create']),
      ceiling: 'staff',
      rateLimitPerMinute: null,
      creatorUserId: 'u',
    };
    // The creator's membership (tenant.role) is not consulted: removed (null) or owner alike.
    for (const creatorRole of [null, 'owner', 'guest'] as const) {
      assert.deepEqual(authorize(key, 'services.read', { tenantId: TENANT, role: creatorRole }), { allowed: true, role: 'staff' });
    }
    // A wide permission covers its :own form, as it does for roles.
    assert.equal(authorize(key, 'reservations:own.read', { tenantId: TENANT, role: null }).allowed, true);
    const beyondCeiling = authorize(key, 'reservations.read', { tenantId: TENANT, role: 'owner' });
    assert.deepEqual(beyondCeiling, { allowed: false, reason: 'insufficient_permissions', required: 'reservations.read', role: 'staff', missing: ['role_ceiling'] });
    const beyondScope = authorize(key, 'members.read', { tenantId: TENANT, role: 'owner' });
    assert.deepEqual(!beyondScope.allowed && beyondScope.missing, ['key_permissions']);
    const both = authorize(key, 'tenant.delete', { tenantId: TENANT, role: 'owner' });
    assert.deepEqual(!both.allowed && both.missing, ['key_permissions', 'role_ceiling']);
    const foreign = authorize(key, 'services.read', { tenantId: OTHER_TENANT, role: 'owner' });
    assert.equal(!foreign.allowed && foreign.reason, 'tenant_mismatch');
  });

  test('the role schema accepts exactly the tenant roles', () => {
    const literals = (TenantRoleSchema as unknown as { anyOf: Array<{ const: string }> }).anyOf.map((s) => s.const);
    assert.deepEqual(literals, [...TENANT_ROLES]);
  });
});
