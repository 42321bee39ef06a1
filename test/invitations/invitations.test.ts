import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { withTenant } from '../../src/db/index.js';
import { createLogTransport } from '../../src/mail/log-transport.js';
import type { BokaEvents } from '../../src/shared/events.js';
import { createEventHub } from '../../src/shared/events.js';
import { addMember, bearer, createTenant, createTestApp, signUp, type SignedInUser, type TestContext } from '../helpers/app.js';

type Invitation = { id: string; email: string; role: string; expiresAt: string; token?: string };

const mail = createLogTransport(() => {});
const events = createEventHub();
const seen: Array<keyof BokaEvents> = [];
for (const name of ['invitation.created', 'invitation.revoked', 'invitation.accepted'] as const) events.on(name, () => seen.push(name));

let ctx: TestContext;
let owner: SignedInUser;
let manager: SignedInUser;
let tenant: { id: string; slug: string };
before(async () => {
  ctx = await createTestApp({ deps: { mail, events } });
  owner = await signUp(ctx.app, 'owner');
  manager = await signUp(ctx.app, 'manager');
  tenant = await createTenant(ctx.app, owner);
  await addMember(ctx.app, owner, tenant.id, manager, 'manager');
});
after(async () => ctx.close());

const invite = (by: SignedInUser, email: string, role: string) =>
  ctx.app.inject({ method: 'POST', url: `/api/tenants/${tenant.id}/invitations`, headers: bearer(by.accessToken), payload: { email, role } });
const accept = (by: SignedInUser, token: string) =>
  ctx.app.inject({ method: 'POST', url: '/api/invitations/accept', headers: bearer(by.accessToken), payload: { token } });

test('invite → mailed token → accept by the matching account → membership; single use', async () => {
  const invitee = await signUp(ctx.app, 'invitee');
  const res = await invite(manager, invitee.email.toUpperCase(), 'staff');
  assert.equal(res.statusCode, 201);
  const inv = res.json<Invitation>();
  assert.ok(inv.token?.startsWith('inv_'));
  assert.equal(Date.parse(inv.expiresAt) - Date.now() > 6.9 * 24 * 3600 * 1000, true);
  const message = mail.sent.at(-1)!;
  assert.equal(message.to.toLowerCase(), invitee.email);
  assert.ok(message.text.includes(inv.token!), 'the token is delivered by mail');

  // Stored hashed only (ASVS 2.9.2): no column holds the token or its secret.
  const row = await withTenant(ctx.database.db, tenant.id, async (tx) =>
    (await tx.query<Record<string, unknown>>('SELECT * FROM invitations WHERE id = $1', [inv.id])).rows[0]!,
  );
  const secret = inv.token!.split('.')[1]!;
  assert.ok(!JSON.stringify(row).includes(secret));

  const listed = await ctx.app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}/invitations`, headers: bearer(owner.accessToken) });
  assert.ok(listed.json<{ items: Invitation[] }>().items.some((i) => i.id === inv.id && !('token' in i)));

  const stranger = await signUp(ctx.app, 'stranger');
  assert.equal((await accept(stranger, inv.token!)).statusCode, 403);
  const tampered = `${inv.token!.slice(0, -4)}AAAA`;
  assert.equal((await accept(invitee, tampered)).statusCode, 404);
  assert.equal((await accept(invitee, 'garbage')).statusCode, 404);

  const ok = await accept(invitee, inv.token!);
  assert.equal(ok.statusCode, 200, ok.body);
  assert.deepEqual(ok.json(), { tenantId: tenant.id, role: 'staff' });
  const members = await ctx.app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}/members`, headers: bearer(invitee.accessToken) });
  assert.equal(members.statusCode, 200, 'the new membership is effective immediately');

  const again = await accept(invitee, inv.token!);
  assert.equal(again.statusCode, 422);
  assert.equal(again.json<{ details: { reason: string } }>().details.reason, 'used');
});

test('roles strictly below the inviter’s, except owner → owner', async () => {
  assert.equal((await invite(manager, 'm1@example.test', 'manager')).statusCode, 403);
  assert.equal((await invite(manager, 'm2@example.test', 'owner')).statusCode, 403);
  assert.equal((await invite(manager, 'm3@example.test', 'customer')).statusCode, 201);
  assert.equal((await invite(owner, 'o1@example.test', 'owner')).statusCode, 201);
  const staff = await signUp(ctx.app, 'staffer');
  await addMember(ctx.app, owner, tenant.id, staff, 'staff');
  assert.equal((await invite(staff, 's1@example.test', 'guest')).statusCode, 403, 'staff lack invitations.create');
  assert.equal((await invite(owner, manager.email, 'staff')).statusCode, 409, 'already a member');
});

test('revoked and expired invitations cannot be accepted', async () => {
  const a = await signUp(ctx.app, 'revoked');
  const inv = (await invite(owner, a.email, 'customer')).json<Invitation>();
  const del = await ctx.app.inject({ method: 'DELETE', url: `/api/tenants/${tenant.id}/invitations/${inv.id}`, headers: bearer(owner.accessToken) });
  assert.equal(del.statusCode, 204);
  const res = await accept(a, inv.token!);
  assert.equal(res.statusCode, 422);
  assert.equal(res.json<{ details: { reason: string } }>().details.reason, 'revoked');
  const again = await ctx.app.inject({ method: 'DELETE', url: `/api/tenants/${tenant.id}/invitations/${inv.id}`, headers: bearer(owner.accessToken) });
  assert.equal(again.statusCode, 404);

  const b = await signUp(ctx.app, 'expired');
  const old = (await invite(owner, b.email, 'customer')).json<Invitation>();
  await withTenant(ctx.database.db, tenant.id, (tx) =>
    tx.query(`UPDATE invitations SET expires_at = now() - interval '1 second' WHERE id = $1`, [old.id]),
  );
  const expired = await accept(b, old.token!);
  assert.equal(expired.statusCode, 422);
  assert.equal(expired.json<{ details: { reason: string } }>().details.reason, 'expired');
  const list = await ctx.app.inject({ method: 'GET', url: `/api/tenants/${tenant.id}/invitations`, headers: bearer(owner.accessToken) });
  assert.ok(!list.json<{ items: Invitation[] }>().items.some((i) => i.id === old.id || i.id === inv.id));
});

test('domain events are emitted for the audit log', () => {
  for (const name of ['invitation.created', 'invitation.revoked', 'invitation.accepted'] as const) assert.ok(seen.includes(name), name);
});
