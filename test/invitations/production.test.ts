import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createLogTransport } from '../../src/mail/log-transport.js';
import { bearer, createTenant, createTestApp, signUp, type TestContext } from '../helpers/app.js';

// In production the invitation token travels only by mail, never in the API response.
const mail = createLogTransport(() => {});
let ctx: TestContext;
before(async () => {
  // Sign-up is `verify` by default in production (ADR 0013); this file is about invitations.
  ctx = await createTestApp({ env: { NODE_ENV: 'production', LOG_LEVEL: 'silent', AUTH_SIGNUP_MODE: 'open' }, deps: { mail } });
});
after(async () => ctx.close());

test('production: 201 without the token; the mail carries it', async () => {
  const owner = await signUp(ctx.app, 'owner');
  const tenant = await createTenant(ctx.app, owner);
  const res = await ctx.app.inject({
    method: 'POST',
    url: `/api/tenants/${tenant.id}/invitations`,
    headers: bearer(owner.accessToken),
    payload: { email: 'new-hire@example.test', role: 'staff' },
  });
  assert.equal(res.statusCode, 201, res.body);
  assert.equal('token' in res.json<Record<string, unknown>>(), false);
  assert.match(mail.sent.at(-1)!.text, /inv_[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}/);
});
