import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { addMember, bearer, createTenant, createTestApp, errorBody, signUp, type SignedInUser, type TestContext } from '../helpers/app.js';
import { asOwner } from '../helpers/database.js';
import { createManualClock, waitFor } from '../helpers/doubles.js';

/**
 * API keys as tenant service principals (issue #19 part 2, ADR 0017). Runs on PGlite and, with
 * DATABASE_URL/REDIS_URL, on PostgreSQL + Redis. Time moves only through the injected clock.
 */
describe('API keys as tenant service accounts', () => {
  const clock = createManualClock();
  let ctx: TestContext;
  let owner: SignedInUser;
  let manager: SignedInUser;
  let staff: SignedInUser;
  let tenant: { id: string };

  before(async () => {
    // With REDIS_URL the per-key limit is counted in Redis, as in production.
    ctx = await createTestApp({ env: process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}, deps: { clock } });
    owner = await signUp(ctx.app, 'owner');
    manager = await signUp(ctx.app, 'manager');
    staff = await signUp(ctx.app, 'staff');
    tenant = await createTenant(ctx.app, owner);
    await addMember(ctx.app, owner, tenant.id, manager, 'manager');
    await addMember(ctx.app, owner, tenant.id, staff, 'staff');
  });
  after(() => ctx.close());

  const base = () => `/api/tenants/${tenant.id}/api-keys`;
  const create = (by: SignedInUser, payload: Record<string, unknown>) =>
    ctx.app.inject({ method: 'POST', url: base(), headers: bearer(by.accessToken), payload: { name: 'integration', ...payload } });
  const rotate = (by: Record<string, string>, id: string, payload: Record<string, unknown> = {}) =>
    ctx.app.inject({ method: 'POST', url: `${base()}/${id}/rotate`, headers: by, payload });
  const use = (key: string, path = '') => ctx.app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}${path}`, headers: { 'x-api-key': key } });

  test('creator removed: the key still works, within its ceiling and scope', async () => {
    const member = await signUp(ctx.app, 'leaver');
    await addMember(ctx.app, owner, tenant.id, member, 'manager');
    const res = await create(member, { roleCeiling: 'staff', permissions: ['members.read', 'services.read'] });
    assert.equal(res.statusCode, 201, res.body);
    const { key, roleCeiling, createdBy } = res.json();
    assert.equal(roleCeiling, 'staff');
    assert.equal(createdBy, member.id);
    const removed = await ctx.app.inject({ method: 'DELETE', url: `/api/tenants/${tenant.id}/members/${member.id}`, headers: bearer(owner.accessToken) });
    assert.equal(removed.statusCode, 204);
    assert.equal((await use(key, '/members')).statusCode, 200, 'the key outlives its creator');
    assert.equal((await use(key, '/services')).statusCode, 200);
    const beyond = await use(key, '/invitations');
    assert.equal(beyond.statusCode, 403, 'still bounded by scope and ceiling');
    assert.equal(errorBody(beyond).code, 'insufficient_permissions');
  });

  test('creator demoted: the key keeps its ceiling (keys belong to the tenant)', async () => {
    const member = await signUp(ctx.app, 'demoted');
    await addMember(ctx.app, owner, tenant.id, member, 'manager');
    const { key } = (await create(member, { roleCeiling: 'manager', permissions: ['invitations.read'] })).json();
    const demote = await ctx.app.inject({ method: 'PATCH', url: `/api/tenants/${tenant.id}/members/${member.id}`, headers: bearer(owner.accessToken), payload: { role: 'customer' } });
    assert.equal(demote.statusCode, 200);
    assert.equal((await use(key, '/invitations')).statusCode, 200);
  });

  test('over-ceiling creation is refused: ceiling above the creator (403), permissions above the ceiling or :own (422)', async () => {
    const aboveCreator = await create(manager, { roleCeiling: 'owner' });
    assert.equal(aboveCreator.statusCode, 403);
    assert.equal(errorBody(aboveCreator).code, 'insufficient_permissions');
    assert.deepEqual(errorBody(aboveCreator).details, { role: 'manager', roleCeiling: 'owner' });

    const creatorLacks = await create(staff, { permissions: ['services.create'] });
    assert.equal(creatorLacks.statusCode, 403);

    const aboveCeiling = await create(manager, { roleCeiling: 'staff', permissions: ['services.read', 'services.create'] });
    assert.equal(aboveCeiling.statusCode, 422);
    assert.equal(errorBody(aboveCeiling).code, 'invalid_key_scope');
    assert.deepEqual(errorBody(aboveCeiling).details, { permissions: ['services.create'], roleCeiling: 'staff', reason: 'beyond_ceiling' });

    const own = await create(manager, { permissions: ['reservations:own.read'] });
    assert.equal(own.statusCode, 422);
    assert.equal(errorBody(own).code, 'invalid_key_scope');
    assert.equal((errorBody(own).details as { reason: string }).reason, 'own_scope');

    const empty = await create(manager, {});
    assert.equal(empty.statusCode, 422);

    // A ceiling alone grants the ceiling's permissions, never the :own forms.
    const whole = await create(manager, { roleCeiling: 'staff' });
    assert.equal(whole.statusCode, 201);
    const perms: string[] = whole.json().permissions;
    assert.ok(perms.includes('members.read') && perms.includes('customers.write'));
    assert.ok(!perms.some((p) => p.includes(':own')) && !perms.includes('services.create'));
  });

  test('403 details name the key and what lacks the permission: its scope, its ceiling, or both', async () => {
    const { key, id } = (await create(owner, { roleCeiling: 'staff', permissions: ['services.read'] })).json();
    const scope = await use(key, '/members');
    assert.equal(scope.statusCode, 403);
    assert.deepEqual(errorBody(scope).details, { required: 'members.read', role: 'staff', principal: 'api_key', keyId: id, missing: ['key_permissions'] });
    const both = await use(key, '/invitations');
    assert.deepEqual((errorBody(both).details as { missing: string[] }).missing, ['key_permissions', 'role_ceiling']);
    assert.ok(!both.body.includes(key.split('.')[1]), 'no secret in the body');
    // Ceiling-only shortfall: a pre-008 key bounded by a demoted creator (below).
  });

  test('a wide permission reaches the :own routes (a key with reservations.read lists every reservation)', async () => {
    const { key } = (await create(owner, { permissions: ['reservations.read'] })).json();
    const res = await use(key, '/reservations');
    assert.equal(res.statusCode, 200, res.body);
  });

  test('rotate: new secret once, both valid until the grace ends (injected clock), then only the new one', async () => {
    const created = (await create(owner, { roleCeiling: 'staff', permissions: ['services.read'] })).json();
    const rotated = await rotate(bearer(manager.accessToken), created.id, { graceSeconds: 60 });
    assert.equal(rotated.statusCode, 200, rotated.body);
    const body = rotated.json();
    assert.equal(body.id, created.id);
    assert.notEqual(body.key, created.key);
    assert.ok(body.key.startsWith(created.prefix));
    assert.equal(body.rotatedBy, manager.id);
    assert.equal(body.previousSecretValidUntil, new Date(clock.now() + 60_000).toISOString());
    assert.equal((await use(created.key, '/services')).statusCode, 200, 'old secret inside the grace');
    assert.equal((await use(body.key, '/services')).statusCode, 200, 'new secret');
    clock.advance(59_000);
    assert.equal((await use(created.key, '/services')).statusCode, 200, 'one second before the end');
    clock.advance(1_000);
    const late = await use(created.key, '/services');
    assert.equal(late.statusCode, 401, 'the grace is over');
    assert.equal(errorBody(late).code, 'invalid_token');
    assert.equal((await use(body.key, '/services')).statusCode, 200);
    // The list never shows either secret.
    const list = await ctx.app.inject({ method: 'GET', url: base(), headers: bearer(owner.accessToken) });
    assert.ok(!list.body.includes(body.key.split('.')[1]) && !list.body.includes(created.key.split('.')[1]));
    // Audit: the rotation names the key and who rotated it.
    const rows = await waitFor(async () => {
      const r = await ctx.app.inject({ url: `/api/tenants/${tenant.id}/audit?action=apikey.rotate`, headers: bearer(owner.accessToken) });
      const items = r.json().items as Array<{ target: string; actor: { type: string; id: string } }>;
      return items.find((i) => i.target === `api_key:${created.id}`) ?? null;
    });
    assert.deepEqual(rows.actor, { type: 'user', id: manager.id });
  });

  test('graceSeconds 0 ends the old secret at once; a rotation inside a running grace is 409', async () => {
    const created = (await create(owner, { permissions: ['services.read'] })).json();
    const now = await rotate(bearer(owner.accessToken), created.id, { graceSeconds: 0 });
    assert.equal(now.statusCode, 200);
    assert.equal((await use(created.key, '/services')).statusCode, 401);
    const graced = await rotate(bearer(owner.accessToken), created.id, {});
    assert.equal(graced.statusCode, 200);
    assert.equal(graced.json().previousSecretValidUntil, new Date(clock.now() + 24 * 3600_000).toISOString(), 'default grace 24 h');
    const again = await rotate(bearer(owner.accessToken), created.id, { graceSeconds: 0 });
    assert.equal(again.statusCode, 409);
    assert.equal(errorBody(again).code, 'conflict');
    assert.equal((await rotate(bearer(owner.accessToken), created.id, { graceSeconds: 7 * 24 * 3600 + 1 })).statusCode, 400);
  });

  test('concurrent rotations: one wins, the other gets 409', async () => {
    const created = (await create(owner, { permissions: ['services.read'] })).json();
    const results = await Promise.all([rotate(bearer(owner.accessToken), created.id), rotate(bearer(manager.accessToken), created.id)]);
    assert.deepEqual(results.map((r) => r.statusCode).sort(), [200, 409], results.map((r) => r.body).join('\n'));
    const winner = results.find((r) => r.statusCode === 200)!.json();
    assert.equal((await use(winner.key, '/services')).statusCode, 200);
  });

  test('revoked: the old and the new secret die at once', async () => {
    const created = (await create(owner, { permissions: ['services.read'] })).json();
    const { key } = (await rotate(bearer(owner.accessToken), created.id, { graceSeconds: 600 })).json();
    assert.equal((await use(created.key, '/services')).statusCode, 200);
    assert.equal((await use(key, '/services')).statusCode, 200);
    const del = await ctx.app.inject({ method: 'DELETE', url: `${base()}/${created.id}`, headers: bearer(owner.accessToken) });
    assert.equal(del.statusCode, 204);
    assert.equal((await use(created.key, '/services')).statusCode, 401);
    assert.equal((await use(key, '/services')).statusCode, 401);
    assert.equal((await rotate(bearer(owner.accessToken), created.id)).statusCode, 422, 'a revoked key cannot be rotated');
  });

  test('who may rotate: members standing behind the ceiling; never a key; unknown ids 404', async () => {
    const ownerLevel = (await create(owner, { roleCeiling: 'owner', permissions: ['tenant.write'] })).json();
    const byManager = await rotate(bearer(manager.accessToken), ownerLevel.id);
    assert.equal(byManager.statusCode, 403, 'a manager must not obtain an owner-level secret');
    assert.equal(errorBody(byManager).code, 'insufficient_permissions');
    const keyMinter = (await create(owner, { permissions: ['api_keys.create', 'api_keys.read'] })).json();
    const byKey = await rotate({ 'x-api-key': keyMinter.key }, keyMinter.id);
    assert.equal(byKey.statusCode, 403);
    assert.equal(errorBody(byKey).code, 'forbidden');
    const mint = await ctx.app.inject({ method: 'POST', url: base(), headers: { 'x-api-key': keyMinter.key }, payload: { name: 'x', permissions: ['tenant.read'] } });
    assert.equal(mint.statusCode, 403);
    assert.equal(errorBody(mint).code, 'forbidden');
    assert.equal((await rotate(bearer(owner.accessToken), '00000000-0000-4000-8000-000000000000')).statusCode, 404);
    assert.equal((await rotate(bearer(owner.accessToken), ownerLevel.id.toUpperCase())).statusCode, 404);
    assert.equal((await rotate(bearer(owner.accessToken), ownerLevel.id, { graceSeconds: 10, extra: 1 })).statusCode, 400);
  });

  test('per-key rate limit: 429 past its own limit, within the global maximum', async () => {
    const { key } = (await create(owner, { permissions: ['tenant.read'], rateLimitPerMinute: 3 })).json();
    for (let i = 0; i < 3; i += 1) {
      const ok = await use(key);
      assert.equal(ok.statusCode, 200);
      assert.equal(ok.headers['ratelimit-limit'], '3');
    }
    const limited = await use(key);
    assert.equal(limited.statusCode, 429);
    assert.equal(errorBody(limited).code, 'quota_exceeded');
    assert.ok(Number(limited.headers['retry-after']) >= 1);
    // Another key of the same tenant is not affected.
    const other = (await create(owner, { permissions: ['tenant.read'] })).json();
    assert.equal((await use(other.key)).statusCode, 200);
    const tooHigh = await create(owner, { permissions: ['tenant.read'], rateLimitPerMinute: ctx.config.rateLimit.perPrincipalPerMinute + 1 });
    assert.equal(tooHigh.statusCode, 400);
  });

  test('a pre-008 key (no ceiling) keeps the old rule until its first rotation adopts it', async () => {
    const member = await signUp(ctx.app, 'legacy');
    await addMember(ctx.app, owner, tenant.id, member, 'manager');
    const created = (await create(member, { permissions: ['services.read', 'services.create'] })).json();
    // What the previous release (or the data before migration 008) leaves: no ceiling.
    await asOwner(ctx.database, `UPDATE api_keys SET role_ceiling = NULL WHERE id = $1`, [created.id]);
    const demote = await ctx.app.inject({ method: 'PATCH', url: `/api/tenants/${tenant.id}/members/${member.id}`, headers: bearer(owner.accessToken), payload: { role: 'staff' } });
    assert.equal(demote.statusCode, 200);
    const shrunk = await ctx.app.inject({ method: 'POST', url: `/api/tenants/${tenant.id}/services`, headers: { 'x-api-key': created.key }, payload: {} });
    assert.equal(shrunk.statusCode, 403, 'bounded by the creator’s current role');
    assert.deepEqual((errorBody(shrunk).details as { missing: string[] }).missing, ['role_ceiling']);
    assert.equal((await use(created.key, '/services')).statusCode, 200);
    const list = await ctx.app.inject({ method: 'GET', url: base(), headers: bearer(owner.accessToken) });
    assert.equal(list.json().items.find((k: { id: string }) => k.id === created.id).roleCeiling, null);
    // Rotation adopts it: the lowest role holding its permissions becomes its ceiling.
    const rotated = await rotate(bearer(owner.accessToken), created.id, { graceSeconds: 0 });
    assert.equal(rotated.statusCode, 200);
    assert.equal(rotated.json().roleCeiling, 'manager');
    const removed = await ctx.app.inject({ method: 'DELETE', url: `/api/tenants/${tenant.id}/members/${member.id}`, headers: bearer(owner.accessToken) });
    assert.equal(removed.statusCode, 204);
    assert.equal((await use(rotated.json().key, '/services')).statusCode, 200, 'now it survives its creator');

    // An older key scoped to its creator's own reservations is not adopted (422), only replaced.
    const ownKey = (await create(owner, { permissions: ['services.read'] })).json();
    await asOwner(ctx.database, `UPDATE api_keys SET role_ceiling = NULL, permissions = ARRAY['reservations:own.read'] WHERE id = $1`, [ownKey.id]);
    const refused = await rotate(bearer(owner.accessToken), ownKey.id);
    assert.equal(refused.statusCode, 422);
    assert.equal(errorBody(refused).code, 'invalid_key_scope');
  });
});
