import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ALL_PERMISSIONS, digestsEqual, hasPermission, rankOf, ROLES, TENANT_ROLES, type Permission } from '../../src/access/index.js';
import { matchSecret, minimalCeiling, planKeyScope, rotationBlockedUntil } from '../../src/api-keys/api-keys.core.js';

const digest = (n: number) => Buffer.alloc(32, n);

describe('API key scope rules (pure, ADR 0017)', () => {
  // Table-driven: every actor role × every ceiling. ASVS 4.0.3 4.1.3 / 4.2.1: no escalation.
  for (const actor of ROLES) {
    for (const ceiling of TENANT_ROLES) {
      test(`${actor} asking for ceiling ${ceiling}`, () => {
        const plan = planKeyScope(actor, { roleCeiling: ceiling });
        const allowed = actor === 'superadmin' || rankOf(ceiling) <= rankOf(actor);
        assert.equal(plan.ok, allowed);
        if (!plan.ok) assert.equal(plan.code, 'insufficient_permissions');
        if (plan.ok) {
          assert.equal(plan.ceiling, ceiling);
          // The ceiling's permissions, never an :own form, never one the ceiling lacks.
          assert.ok(plan.permissions.every((p) => hasPermission(ceiling, p) && !p.includes(':own')));
        }
      });
    }
  }

  test('property: whatever is asked, an accepted plan never exceeds the creator nor the ceiling, and holds no :own', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ROLES),
        fc.option(fc.constantFrom(...TENANT_ROLES), { nil: undefined }),
        fc.option(fc.uniqueArray(fc.constantFrom(...ALL_PERMISSIONS), { minLength: 1, maxLength: 8 }), { nil: undefined }),
        (actor, roleCeiling, permissions) => {
          const plan = planKeyScope(actor, { roleCeiling, permissions: permissions as Permission[] | undefined });
          if (!plan.ok) return;
          assert.ok(actor === 'superadmin' || rankOf(plan.ceiling) <= rankOf(actor));
          for (const p of plan.permissions) {
            assert.ok(hasPermission(actor, p), `${actor} lacks ${p}`);
            assert.ok(hasPermission(plan.ceiling, p), `${plan.ceiling} lacks ${p}`);
            assert.ok(!p.includes(':own'));
          }
          if (roleCeiling === undefined) assert.equal(plan.ceiling, minimalCeiling(plan.permissions));
        },
      ),
      { numRuns: 500 },
    );
  });

  test(':own permissions and empty scopes are refused with invalid_key_scope', () => {
    const own = planKeyScope('owner', { permissions: ['services.read', 'reservations:own.cancel'] });
    assert.deepEqual(own.ok ? null : [own.code, own.details], ['invalid_key_scope', { permissions: ['reservations:own.cancel'], reason: 'own_scope' }]);
    const empty = planKeyScope('owner', {});
    assert.equal(!empty.ok && empty.code, 'invalid_key_scope');
  });

  test('minimalCeiling picks the lowest role holding every permission', () => {
    assert.equal(minimalCeiling(['services.read']), 'guest');
    assert.equal(minimalCeiling(['services.read', 'members.read']), 'staff');
    assert.equal(minimalCeiling(['reservations.read']), 'manager');
    assert.equal(minimalCeiling(['tenant.delete']), 'owner');
  });
});

describe('API key secrets and rotation (pure)', () => {
  const key = { secretHash: digest(1), previousSecretHash: digest(2), previousValidUntil: new Date(10_000) };

  test('the current secret always matches; the previous one strictly before its grace ends', () => {
    assert.equal(matchSecret(key, digest(1), 50_000, digestsEqual), 'current');
    assert.equal(matchSecret(key, digest(2), 9_999, digestsEqual), 'previous');
    assert.equal(matchSecret(key, digest(2), 10_000, digestsEqual), 'none');
    assert.equal(matchSecret(key, digest(3), 0, digestsEqual), 'none');
    assert.equal(matchSecret({ ...key, previousSecretHash: null }, digest(2), 0, digestsEqual), 'none');
  });

  test('both digests are compared whichever matches (no early exit to time)', () => {
    const calls: number[] = [];
    const counting = (a: Buffer, b: Buffer) => {
      calls.push(1);
      return digestsEqual(a, b);
    };
    matchSecret(key, digest(1), 0, counting);
    matchSecret(key, digest(9), 0, counting);
    assert.equal(calls.length, 4);
  });

  test('rotation is blocked only while a grace runs', () => {
    assert.equal(rotationBlockedUntil({ previousValidUntil: null }, 0), null);
    assert.equal(rotationBlockedUntil({ previousValidUntil: new Date(100) }, 100), null);
    assert.deepEqual(rotationBlockedUntil({ previousValidUntil: new Date(100) }, 99), new Date(100));
  });
});
