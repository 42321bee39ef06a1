import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createTestApp, signUp, type TestContext } from '../helpers/app.js';
import { createMailbox } from '../helpers/doubles.js';
import { createBookingFixture, ok } from './helpers.js';

/**
 * Issue 17: every mailed link starts with PUBLIC_URL and points at a page this server serves
 * (password reset, verification, invitation, guest confirm / manage); the token rides in the
 * fragment, which no request carries (ASVS 3.1.1).
 */
const mailbox = createMailbox();
let ctx: TestContext;
before(async () => {
  ctx = await createTestApp({ deps: { mail: mailbox }, env: { PUBLIC_URL: 'https://book.example.test/' } });
});
after(async () => ctx.close());

async function assertServedPage(link: string): Promise<void> {
  const url = new URL(link);
  assert.equal(url.origin, 'https://book.example.test', link);
  assert.match(url.hash, /^#token=[A-Za-z0-9_.-]+$/, link);
  const res = await ctx.app.inject({ method: 'GET', url: url.pathname });
  assert.equal(res.statusCode, 200, `${url.pathname} is served`);
  assert.match(String(res.headers['content-type']), /^text\/html/);
  // Its own CSP lets its same-origin script run and call the API (the API-wide default-src 'none'
  // blocked both, so links did nothing in a browser); still no inline code, no framing.
  const csp = String(res.headers['content-security-policy']);
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /connect-src 'self'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|\*/);
  assert.ok(!res.body.includes('<script>'), 'no inline script');
  const script = /<script src="([^"]+)">/.exec(res.body)?.[1];
  assert.ok(script);
  assert.equal((await ctx.app.inject({ method: 'GET', url: script })).statusCode, 200);
}

test('reset, verification, invitation and guest links all point at served pages under PUBLIC_URL', async () => {
  const user = await signUp(ctx.app, 'links');
  await ctx.app.inject({ method: 'POST', url: '/api/auth/password/forgot', payload: { email: user.email } });
  const f = await createBookingFixture(ctx.app);
  const invitee = 'invitee-links@example.test';
  await ok(ctx.app, f.owner, 'POST', `${f.base}/invitations`, { email: invitee, role: 'staff' });
  await ok(ctx.app, null, 'POST', `/api/public/tenants/${f.tenant.slug}/reservations`, {
    serviceId: f.serviceId, start: '2030-03-25T09:00:00Z', customer: { name: 'G', email: 'guest-links@example.test' },
  });
  const links = mailbox.messages.flatMap((m) => [...m.text.matchAll(/https?:\/\/\S+#token=\S+/g)].map((x) => x[0]));
  const paths = new Set(links.map((l) => new URL(l).pathname));
  for (const p of ['/reset-password', '/verify-email', '/invitations/accept', '/booking/confirm', '/booking/manage']) assert.ok(paths.has(p), `a mail links to ${p}: ${[...paths].join(', ')}`);
  for (const link of links) await assertServedPage(link);
});

test('PUBLIC_URL: an absolute http(s) URL, stored without a trailing slash; the reset and verify pages derive from it', async () => {
  const { loadConfig, ConfigError } = await import('../../src/config/config.js');
  const base = { NODE_ENV: 'test', BOKA_DATA_DIR: 'memory' };
  const c = loadConfig({ ...base, PUBLIC_URL: 'https://book.example.test/shop/' });
  assert.equal(c.publicUrl, 'https://book.example.test/shop');
  assert.equal(c.passwordResetUrl, 'https://book.example.test/shop/reset-password');
  assert.equal(c.auth.emailVerifyUrl, 'https://book.example.test/shop/verify-email');
  assert.equal(loadConfig({ ...base, PUBLIC_URL: 'https://x.test', PASSWORD_RESET_URL: 'https://app.test/reset' }).passwordResetUrl, 'https://app.test/reset');
  for (const bad of ['book.example.test', 'ftp://book.example.test', 'https://u:p@book.example.test', 'https://book.example.test/?a=1', 'https://book.example.test/#x']) {
    assert.throws(() => loadConfig({ ...base, PUBLIC_URL: bad }), ConfigError, bad);
  }
});
