import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { grantSuperadmin } from '../../src/admin/admin.service.js';
import { createAuditService } from '../../src/audit/audit.service.js';
import { createEventHub } from '../../src/shared/events.js';
import { systemClock } from '../../src/shared/clock.js';
import { addMember, bearer, createTenant, createTestApp, errorBody, signUp, TEST_PASSWORD, uniqueEmail, type TestContext } from '../helpers/app.js';
import { asOwner } from '../helpers/database.js';
import { waitFor } from '../helpers/doubles.js';

describe('audit log: append-only, hash-chained, per tenant + platform', () => {
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestApp();
  });
  after(() => ctx.close());

  const listAudit = (tenantId: string, token: string, query = '') =>
    ctx.app.inject({ method: 'GET', url: `/api/tenants/${tenantId}/audit${query}`, headers: bearer(token) });

  test('member changes and 403 decisions land in the tenant chain; list filters and paginates', async () => {
    const owner = await signUp(ctx.app, 'aud-owner');
    const staff = await signUp(ctx.app, 'aud-staff');
    const tenant = await createTenant(ctx.app, owner);
    await addMember(ctx.app, owner, tenant.id, staff, 'manager');
    await ctx.app.inject({ method: 'PATCH', url: `/api/tenants/${tenant.id}/members/${staff.id}`, headers: bearer(owner.accessToken), payload: { role: 'staff' } });
    const denied = await ctx.app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}/audit`, headers: bearer(staff.accessToken) });
    assert.equal(denied.statusCode, 403);
    // Audit writes are asynchronous: wait for the four entries this test caused (joining by
    // invitation adds invitation entries too, so a count alone would not mean they are all in).
    const expected = ['tenant.created', 'member.added', 'member.role_change', 'access.denied'];
    const items = await waitFor(async () => {
      const r = (await listAudit(tenant.id, owner.accessToken)).json().items as Array<Record<string, unknown>>;
      return expected.every((a) => r.some((i) => i.action === a)) ? r : null;
    });
    const actions = items.map((i) => i.action);
    for (const a of expected) assert.ok(actions.includes(a), a);
    const roleChange = items.find((i) => i.action === 'member.role_change')!;
    assert.deepEqual(roleChange.actor, { type: 'user', id: owner.id });
    assert.equal(roleChange.target, `user:${staff.id}`);
    for (const key of ['id', 'at', 'tenantId', 'actor', 'action', 'target', 'outcome', 'ip', 'requestId']) assert.ok(key in roleChange, key);
    const denial = items.find((i) => i.action === 'access.denied')!;
    assert.deepEqual(denial.actor, { type: 'user', id: staff.id });
    assert.equal(denial.outcome, 'denied');

    const filtered = (await listAudit(tenant.id, owner.accessToken, '?action=member.added')).json();
    assert.deepEqual(filtered.items.map((i: { action: string }) => i.action), ['member.added']);
    const byActor = (await listAudit(tenant.id, owner.accessToken, `?actor=user:${staff.id}`)).json();
    assert.ok(byActor.items.every((i: { actor: { id: string } }) => i.actor.id === staff.id));
    const page1 = (await listAudit(tenant.id, owner.accessToken, '?limit=2')).json();
    assert.equal(page1.items.length, 2);
    assert.ok(page1.nextCursor);
    const page2 = (await listAudit(tenant.id, owner.accessToken, `?limit=2&cursor=${page1.nextCursor}`)).json();
    assert.ok(page2.items.length >= 1);
    assert.ok(!page2.items.some((i: { id: string }) => page1.items.some((j: { id: string }) => j.id === i.id)));
    const future = (await listAudit(tenant.id, owner.accessToken, `?from=${encodeURIComponent('2999-01-01T00:00:00Z')}`)).json();
    assert.equal(future.items.length, 0);
  });

  test('the application role can INSERT and SELECT audit rows but not UPDATE or DELETE them (ASVS 7.3.3)', async () => {
    await assert.rejects(ctx.database.db.query(`UPDATE audit_log SET action = 'x'`), /permission denied/);
    await assert.rejects(ctx.database.db.query(`DELETE FROM audit_log`), /permission denied/);
    await assert.rejects(ctx.database.db.query(`TRUNCATE audit_log`), /permission denied|must be owner/);
  });

  test('concurrent appends never fork a chain; verify re-walks every chain', async () => {
    const owner = await signUp(ctx.app, 'conc');
    const tenant = await createTenant(ctx.app, owner);
    const writer = createAuditService({ db: ctx.database.db, clock: systemClock, events: createEventHub() });
    const second = createAuditService({ db: ctx.database.db, clock: systemClock, events: createEventHub() });
    for (let i = 0; i < 20; i += 1) {
      // Two independent writers (as two instances would be) on the same chains at once.
      for (const w of [writer, second]) {
        w.record({ tenantId: tenant.id, actor: { type: 'system', id: 'test' }, action: 'test.concurrent', outcome: 'success' });
        w.record({ tenantId: null, actor: { type: 'system', id: 'test' }, action: 'test.concurrent', outcome: 'success' });
      }
    }
    await Promise.all([writer.flush(), second.flush()]);
    assert.deepEqual([writer.stats().failed, second.stats().failed], [0, 0]);
    const report = await writer.verify();
    assert.deepEqual(report.broken, []);
    assert.ok(report.records >= 80);
  });

  test('tampering with a stored row is detected at that link', async () => {
    const owner = await signUp(ctx.app, 'tamper');
    const tenant = await createTenant(ctx.app, owner);
    const verifier = createAuditService({ db: ctx.database.db, clock: systemClock, events: createEventHub() });
    for (let i = 0; i < 3; i += 1) verifier.record({ tenantId: tenant.id, actor: { type: 'user', id: owner.id }, action: 'test.row', outcome: 'success' });
    await verifier.flush();
    assert.deepEqual((await verifier.verify()).broken, []);
    await asOwner(ctx.database, `UPDATE audit_log SET outcome = 'failure' WHERE tenant_id = $1 AND seq = 2`, [tenant.id]);
    const report = await verifier.verify();
    assert.deepEqual(report.broken.map((b) => ({ tenantId: b.tenantId, seq: b.seq, reason: b.reason })), [{ tenantId: tenant.id, seq: 2, reason: 'hash_mismatch' }]);
    // Deleting a row in the middle is a gap.
    await asOwner(ctx.database, `UPDATE audit_log SET outcome = 'success' WHERE tenant_id = $1 AND seq = 2`, [tenant.id]);
    await asOwner(ctx.database, `DELETE FROM audit_log WHERE tenant_id = $1 AND seq = 2`, [tenant.id]);
    const gap = await verifier.verify();
    assert.deepEqual(gap.broken.map((b) => ({ seq: b.seq, reason: b.reason })), [{ seq: 2, reason: 'seq_gap' }]);
    // Leave the database consistent for the other tests: drop this tenant's tampered chain.
    await asOwner(ctx.database, `DELETE FROM audit_log WHERE tenant_id = $1`, [tenant.id]);
  });

  test('no default accounts (ASVS 2.5.4); a CLI-made superadmin reads any tenant and every such request is audited', async () => {
    const stranger = await signUp(ctx.app, 'victim-owner');
    const tenant = await createTenant(ctx.app, stranger);
    const none = await ctx.database.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM users WHERE is_superadmin`);
    assert.equal(none.rows[0]!.n, 0);
    const email = uniqueEmail('root');
    const events = createEventHub();
    const cliAudit = createAuditService({ db: ctx.database.db, clock: systemClock, events });
    const granted = await grantSuperadmin({ db: ctx.database.db, events }, { email, password: TEST_PASSWORD });
    assert.equal(granted.ok, true);
    await cliAudit.flush();
    const login = await ctx.app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password: TEST_PASSWORD } });
    assert.equal(login.statusCode, 200);
    const token = login.json().accessToken as string;
    assert.equal((await ctx.app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}/members`, headers: bearer(token) })).statusCode, 200);
    const tenantRows = await waitFor(async () => {
      const items = (await listAudit(tenant.id, stranger.accessToken, '?action=superadmin.access')).json().items as Array<{ actor: { id: string } }>;
      return items.length > 0 ? items : null;
    });
    assert.equal(tenantRows[0]!.actor.id, (granted as { userId: string }).userId);
    const platform = await ctx.app.inject({ method: 'GET', url: '/api/admin/audit?action=superadmin.granted', headers: bearer(token) });
    assert.equal(platform.statusCode, 200);
    assert.equal(platform.json().items.length, 1);
    const refused = await ctx.app.inject({ method: 'GET', url: '/api/admin/audit', headers: bearer(stranger.accessToken) });
    assert.equal(errorBody(refused).code, 'forbidden');
  });
});

describe('audit log: invitations', () => {
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestApp();
  });
  after(() => ctx.close());

  test('invitation create, accept and revoke are audited in the tenant chain', async () => {
    const owner = await signUp(ctx.app, 'inv-aud-owner');
    const invitee = await signUp(ctx.app, 'inv-aud-invitee');
    const tenant = await createTenant(ctx.app, owner);
    const url = `/api/tenants/${tenant.id}/invitations`;
    const created = await ctx.app.inject({ method: 'POST', url, headers: bearer(owner.accessToken), payload: { email: invitee.email, role: 'staff' } });
    assert.equal(created.statusCode, 201);
    const { id, token } = created.json<{ id: string; token: string }>();
    const accepted = await ctx.app.inject({ method: 'POST', url: '/api/invitations/accept', headers: bearer(invitee.accessToken), payload: { token } });
    assert.equal(accepted.statusCode, 200, accepted.body);
    const second = await ctx.app.inject({ method: 'POST', url, headers: bearer(owner.accessToken), payload: { email: 'later@example.test', role: 'customer' } });
    const revoked = await ctx.app.inject({ method: 'DELETE', url: `${url}/${second.json<{ id: string }>().id}`, headers: bearer(owner.accessToken) });
    assert.equal(revoked.statusCode, 204);
    const items = await waitFor(async () => {
      const res = await ctx.app.inject({ url: `/api/tenants/${tenant.id}/audit?action=invitation.create`, headers: bearer(owner.accessToken) });
      const all = await ctx.app.inject({ url: `/api/tenants/${tenant.id}/audit?limit=100`, headers: bearer(owner.accessToken) });
      const rows = all.json<{ items: Array<{ action: string; target: string; actor: { id: string } }> }>().items;
      return res.json<{ items: unknown[] }>().items.length === 2 && rows.some((r) => r.action === 'invitation.revoke') ? rows : null;
    });
    const accept = items.find((i) => i.action === 'invitation.accept');
    assert.deepEqual([accept?.target, accept?.actor.id], [`invitation:${id}`, invitee.id]);
    assert.ok(items.some((i) => i.action === 'invitation.revoke'));
  });
});
