import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { hasPermission, type Permission, type TenantRole } from '../../src/access/permissions.js';
import type { AccessPolicy } from '../../src/access/policy.js';
import { listRoutes } from '../../src/access/pipeline.js';
import { addMember, bearer, createTenant, createTestApp, signUp, type SignedInUser, type TestContext } from '../helpers/app.js';

/**
 * Every booking and invitation route with the permission it must declare, then every role
 * against every route: 403 exactly when the role lacks the permission (ASVS 4.1.3, 4.2.1).
 * A new route in these areas without a row here fails the first test.
 */
const T = '/api/tenants/:tenantId';
const P = '/api/public/tenants/:slug';
const TABLE: ReadonlyArray<readonly [method: string, url: string, access: Permission | 'public' | 'public_or_signed_in' | 'signed_in']> = [
  ['GET', `${T}/settings`, 'settings.read'],
  ['PATCH', `${T}/settings`, 'settings.write'],
  ['GET', `${T}/services`, 'services.read'],
  ['POST', `${T}/services`, 'services.create'],
  ['GET', `${T}/services/:id`, 'services.read'],
  ['PATCH', `${T}/services/:id`, 'services.write'],
  ['DELETE', `${T}/services/:id`, 'services.delete'],
  ['GET', `${T}/staff`, 'staff.read'],
  ['POST', `${T}/staff`, 'staff.create'],
  ['GET', `${T}/staff/:id`, 'staff.read'],
  ['PATCH', `${T}/staff/:id`, 'staff.write'],
  ['DELETE', `${T}/staff/:id`, 'staff.delete'],
  ['PUT', `${T}/staff/:id/services`, 'staff.write'],
  ['PUT', `${T}/staff/:id/hours`, 'availability.write'],
  ['GET', `${T}/staff/:id/time-off`, 'staff.read'],
  ['POST', `${T}/staff/:id/time-off`, 'availability.write'],
  ['DELETE', `${T}/staff/:id/time-off/:timeOffId`, 'availability.write'],
  ['GET', `${T}/staff/:id/date-hours`, 'staff.read'],
  ['PUT', `${T}/staff/:id/date-hours/:date`, 'availability.write'],
  ['DELETE', `${T}/staff/:id/date-hours/:date`, 'availability.write'],
  ['GET', `${T}/closures`, 'availability.read'],
  ['POST', `${T}/closures`, 'availability.write'],
  ['DELETE', `${T}/closures/:closureId`, 'availability.write'],
  ['GET', `${T}/customers`, 'customers.read'],
  ['POST', `${T}/customers`, 'customers.create'],
  ['GET', `${T}/customers/:id`, 'customers.read'],
  ['PATCH', `${T}/customers/:id`, 'customers.write'],
  ['GET', `${T}/availability`, 'availability.read'],
  ['GET', `${T}/reservations`, 'reservations:own.read'],
  ['POST', `${T}/reservations`, 'reservations:own.create'],
  ['GET', `${T}/reservations/:id`, 'reservations:own.read'],
  ['PATCH', `${T}/reservations/:id`, 'reservations:own.cancel'],
  ['POST', `${T}/invitations`, 'invitations.create'],
  ['GET', `${T}/invitations`, 'invitations.read'],
  ['DELETE', `${T}/invitations/:id`, 'invitations.delete'],
  ['GET', P, 'public'],
  ['GET', `${P}/services`, 'public'],
  ['GET', `${P}/availability`, 'public_or_signed_in'], // a signed-in customer at the per-customer limit is told so
  ['POST', `${P}/reservations`, 'public_or_signed_in'],
  ['POST', '/api/public/manage/reservation', 'public'],
  ['POST', '/api/public/manage/confirm', 'public'],
  ['POST', '/api/public/manage/cancel', 'public'],
  ['POST', '/api/public/manage/reschedule', 'public'],
  ['POST', '/api/invitations/accept', 'signed_in'],
  // iCal feeds (ADR 0025): the route lets staff and customers in; the handler allows only the
  // linked person or a manager (a 403 here would be the handler's, never for a missing route).
  ['POST', `${T}/staff/:id/calendar-feed`, 'reservations:own.read'],
  ['DELETE', `${T}/staff/:id/calendar-feed`, 'reservations:own.read'],
  ['POST', `${T}/customers/:id/calendar-feed`, 'reservations:own.read'],
  ['DELETE', `${T}/customers/:id/calendar-feed`, 'reservations:own.read'],
  ['GET', '/api/public/calendar/:file', 'public'],
];

const MINE = /^\/api\/(public\/|invitations\/)|^\/api\/tenants\/:tenantId\/(settings|services|staff|customers|availability|closures|reservations|invitations)/;

function describeAccess(a: AccessPolicy): string {
  if ('public' in a) return a.signedInOptional ? 'public_or_signed_in' : 'public';
  if ('authenticated' in a) return 'signed_in';
  if ('superadmin' in a) return 'superadmin';
  if ('operator' in a) return `operator:${a.operator}`;
  return a.permission;
}

let ctx: TestContext;
let tenant: { id: string; slug: string };
const users = new Map<TenantRole | 'non_member' | 'anonymous', SignedInUser | null>();

before(async () => {
  ctx = await createTestApp();
  const owner = await signUp(ctx.app, 'owner');
  tenant = await createTenant(ctx.app, owner);
  users.set('owner', owner);
  for (const role of ['manager', 'staff', 'customer', 'guest'] as const) {
    const u = await signUp(ctx.app, role);
    await addMember(ctx.app, owner, tenant.id, u, role);
    users.set(role, u);
  }
  users.set('non_member', await signUp(ctx.app, 'stranger'));
  users.set('anonymous', null);
});
after(async () => ctx.close());

test('every booking route declares exactly the permission in the table', () => {
  const registered = listRoutes(ctx.app)
    .filter((r) => MINE.test(r.url))
    .map((r) => `${r.method} ${r.url} ${describeAccess(r.access)}`)
    .sort();
  assert.deepEqual(registered, TABLE.map(([m, u, a]) => `${m} ${u} ${a}`).sort());
});

const BOGUS = '00000000-0000-4000-8000-000000000000';
describe('role × route', () => {
  for (const [method, url, access] of TABLE) {
    test(`${method} ${url} (${access})`, async () => {
      const path = url.replace(':tenantId', tenant.id).replace(':slug', tenant.slug).replace(/:[a-zA-Z]+/g, BOGUS);
      for (const [who, user] of users) {
        const res = await ctx.app.inject({
          method: method as 'GET',
          url: path,
          headers: user ? bearer(user.accessToken) : {},
          ...(method === 'GET' || method === 'DELETE' ? {} : { payload: {} }),
        });
        let expected: 'allowed' | 401 | 403;
        if (access === 'public' || access === 'public_or_signed_in') expected = 'allowed';
        else if (!user) expected = 401;
        else if (access === 'signed_in') expected = 'allowed';
        else if (who === 'non_member') expected = 403;
        else expected = hasPermission(who as TenantRole, access) ? 'allowed' : 403;
        const label = `${who}: ${method} ${url} → ${res.statusCode} ${res.body.slice(0, 120)}`;
        if (expected === 'allowed') {
          assert.ok(res.statusCode !== 401 && res.statusCode !== 403 && res.statusCode < 500, label);
        } else {
          assert.equal(res.statusCode, expected, label);
          if (expected === 403) {
            assert.ok(['insufficient_permissions', 'tenant_mismatch'].includes(res.json<{ code: string }>().code), label);
          }
        }
      }
    });
  }
});
