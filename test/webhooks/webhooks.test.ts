import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { checkWebhookUrl, isForbiddenAddress } from '../../src/webhooks/index.js';
import { addMember, signUp, createTestApp, type TestContext } from '../helpers/app.js';
import { waitFor } from '../helpers/doubles.js';
import { call, createBookingFixture, ok, type BookingFixture } from '../booking/helpers.js';

/**
 * Issue 17 / ADR 0023: signed booking webhooks delivered from the job queue. A receiver in the
 * test verifies every delivery with the `standardwebhooks` library (Standard Webhooks spec,
 * HMAC-SHA256 over `id.timestamp.body`), and answers 503 or 500 on purpose.
 */
type Received = { path: string; headers: IncomingHttpHeaders; body: string };
type Endpoint = { id: string; url: string; events: string[]; enabled: boolean; disabledReason: string | null; consecutiveFailures: number; secretPrefix: string };
type Delivery = { messageId: string; event: string; attempt: number; outcome: string; statusCode: number | null; durationMs: number; nextAttemptAt: string | null };

// Real time plus an offset the test advances, so retries come due at once and the receiver's
// signature check (5-minute timestamp tolerance against its own clock) still holds.
let offset = 0;
const clock = { now: () => Date.now() + offset };
const received: Received[] = [];
const failFirst = new Map<string, number>([['/flaky', 2]]);
let receiver: Server;
let origin: string;
let ctx: TestContext;
let f: BookingFixture;
const logLines: string[] = [];
const secretsSeen: string[] = [];
const logStream = new Writable({
  write(chunk: Buffer, _enc, done) {
    logLines.push(chunk.toString('utf8'));
    done();
  },
});

before(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      const path = req.url ?? '';
      received.push({ path, headers: req.headers, body });
      const left = failFirst.get(path) ?? 0;
      if (path === '/down') res.writeHead(500).end();
      else if (left > 0) {
        failFirst.set(path, left - 1);
        res.writeHead(503).end();
      } else res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  ctx = await createTestApp({
    deps: { clock, logStream },
    env: { LOG_LEVEL: 'trace', JOBS_POLL_MS: '20', WEBHOOK_BACKOFF_BASE_MS: '1000', WEBHOOK_MAX_ATTEMPTS: '5', WEBHOOK_DISABLE_AFTER_FAILURES: '3', WEBHOOK_TIMEOUT_MS: '2000' },
  });
  f = await createBookingFixture(ctx.app);
});
after(async () => {
  await ctx.close();
  await new Promise((r) => receiver.close(r));
});

const hooks = () => `${f.base}/webhooks`;
async function register(path: string, events: string[]) {
  const created = await ok<{ endpoint: Endpoint; secret: string }>(ctx.app, f.owner, 'POST', hooks(), { url: `${origin}${path}`, events });
  secretsSeen.push(created.secret);
  return created;
}
const at = (path: string) => received.filter((r) => r.path === path);
const verify = (secret: string, r: Received) => new Webhook(secret).verify(r.body, r.headers as Record<string, string>) as { type: string; data: Record<string, unknown> };

let slotDay = 1;
async function book(): Promise<string> {
  const day = new Date(Date.now() + slotDay++ * 86_400_000).toISOString().slice(0, 10);
  const r = await ok<{ id: string }>(ctx.app, f.owner, 'POST', `${f.base}/reservations`, {
    serviceId: f.serviceId, staffId: f.staffId, customerId: f.customerId, start: `${day}T10:00:00Z`,
  });
  return r.id;
}

describe('delivery', () => {
  test('each subscribed event arrives once, signed; a wrong secret does not verify', async () => {
    const { endpoint, secret } = await register('/ok', ['reservation.created', 'reservation.confirmed', 'reservation.cancelled']);
    assert.match(secret, /^whsec_[A-Za-z0-9+/=]{40,}$/);
    assert.equal(endpoint.secretPrefix, secret.slice(0, 10));
    const id = await book();
    await ok(ctx.app, f.owner, 'PATCH', `${f.base}/reservations/${id}`, { status: 'confirmed' });
    await ok(ctx.app, f.owner, 'PATCH', `${f.base}/reservations/${id}`, { status: 'cancelled' });
    await waitFor(async () => at('/ok').length >= 3, 1500);
    // More polls: nothing is delivered twice.
    await new Promise((r) => setTimeout(r, 200));
    const got = at('/ok');
    assert.equal(got.length, 3);
    const types = got.map((r) => verify(secret, r)).map((p) => p.type).sort();
    assert.deepEqual(types, ['reservation.cancelled', 'reservation.confirmed', 'reservation.created']);
    assert.equal(new Set(got.map((r) => r.headers['webhook-id'])).size, 3);
    for (const r of got) assert.equal((verify(secret, r).data as { reservationId: string }).reservationId, id);
    const other = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    assert.throws(() => verify(other, got[0]!));
    // Tampering with the body breaks the signature too.
    assert.throws(() => verify(secret, { ...got[0]!, body: got[0]!.body.replace('reservation', 'Reservation') }));
  });

  test('a receiver answering 503 is retried with backoff and gets the message once; the log shows every attempt', async () => {
    const { endpoint, secret } = await register('/flaky', ['reservation.created']);
    await book();
    await waitFor(async () => at('/flaky').length >= 1, 1500);
    offset += 1000;
    await waitFor(async () => at('/flaky').length >= 2, 1500);
    offset += 2000;
    await waitFor(async () => at('/flaky').length >= 3, 1500);
    offset += 60_000;
    await new Promise((r) => setTimeout(r, 200));
    const got = at('/flaky');
    assert.equal(got.length, 3);
    assert.equal(new Set(got.map((r) => r.headers['webhook-id'])).size, 1, 'one message, three attempts');
    for (const r of got) verify(secret, r);
    const log = await waitFor(async () => {
      const l = await ok<{ items: Delivery[] }>(ctx.app, f.owner, 'GET', `${hooks()}/${endpoint.id}/deliveries`);
      return l.items.length === 3 ? l.items : null;
    }, 500);
    assert.deepEqual(log.map((d) => [d.attempt, d.outcome, d.statusCode]), [[3, 'delivered', 204], [2, 'failed', 503], [1, 'failed', 503]]);
    assert.equal(log[0]!.nextAttemptAt, null);
    assert.ok(log[1]!.nextAttemptAt && log[2]!.nextAttemptAt);
    assert.ok(!JSON.stringify(log).includes(secret));
    const after = await ok<Endpoint>(ctx.app, f.owner, 'GET', `${hooks()}/${endpoint.id}`);
    assert.equal(after.consecutiveFailures, 0);
  });

  test('an endpoint that keeps failing is disabled after the configured streak, and receives nothing more', async () => {
    const { endpoint } = await register('/down', ['reservation.created']);
    await book();
    for (let n = 1; n <= 3; n += 1) {
      await waitFor(async () => at('/down').length >= n, 1500);
      offset += 10_000;
    }
    const state = await waitFor(async () => {
      const e = await ok<Endpoint>(ctx.app, f.owner, 'GET', `${hooks()}/${endpoint.id}`);
      return e.enabled ? null : e;
    }, 500);
    assert.match(state.disabledReason ?? '', /3 failed attempts/);
    await book();
    offset += 60_000;
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(at('/down').length, 3);
    const reenabled = await ok<Endpoint>(ctx.app, f.owner, 'PATCH', `${hooks()}/${endpoint.id}`, { enabled: true });
    assert.equal(reenabled.enabled, true);
    assert.equal(reenabled.consecutiveFailures, 0);
  });

  test('rotating the secret answers a new one once; later messages verify only with it', async () => {
    const { endpoint, secret: old } = await register('/rotated', ['reservation.created']);
    const rotated = await ok<{ secret: string }>(ctx.app, f.owner, 'POST', `${hooks()}/${endpoint.id}/rotate-secret`);
    secretsSeen.push(rotated.secret);
    assert.notEqual(rotated.secret, old);
    await book();
    const [r] = await waitFor(async () => (at('/rotated').length ? at('/rotated') : null), 1500);
    verify(rotated.secret, r!);
    assert.throws(() => verify(old, r!));
    const list = await ok<{ items: Endpoint[] }>(ctx.app, f.owner, 'GET', hooks());
    assert.ok(!JSON.stringify(list).includes(rotated.secret.slice(10)));
  });
});

describe('endpoint rules', () => {
  test('SSRF: private, link-local and non-https URLs are refused (ASVS 12.6.1)', async () => {
    for (const url of ['https://169.254.169.254/latest/meta-data', 'https://10.1.2.3/hook', 'https://[fd00::1]/hook', 'http://example.com/hook', 'https://user:pw@example.com/', 'ftp://example.com/']) {
      const res = await call<{ code: string }>(ctx.app, f.owner, 'POST', hooks(), { url, events: ['reservation.created'] });
      assert.equal(res.status, 422, url);
      assert.equal(res.body.code, 'webhook_url_refused', url);
    }
    const bad = await call<{ code: string }>(ctx.app, f.owner, 'POST', hooks(), { url: `${origin}/x`, events: ['reservation.deleted'] });
    assert.equal(bad.status, 400);
    assert.equal(checkWebhookUrl('http://localhost:8080/hook', true), 'must use https');
    assert.equal(checkWebhookUrl('https://127.0.0.1/hook', true), 'must not point at this host');
    assert.equal(checkWebhookUrl('https://hooks.example.com/boka', true), null);
    for (const ip of ['127.0.0.1', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '::1', 'fe80::1', 'fd12::1', '::ffff:10.0.0.1', '0.0.0.0']) {
      assert.equal(isForbiddenAddress(ip), true, ip);
    }
    for (const ip of ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946', '8.8.8.8']) assert.equal(isForbiddenAddress(ip), false, ip);
  });

  test('only webhooks.manage (owner, manager) may see or change endpoints', async () => {
    const staff = await signUp(ctx.app, 'staff');
    await addMember(ctx.app, f.owner, f.tenant.id, staff, 'staff');
    assert.equal((await call(ctx.app, staff, 'GET', hooks())).status, 403);
    assert.equal((await call(ctx.app, staff, 'POST', hooks(), { url: `${origin}/x`, events: ['reservation.created'] })).status, 403);
    const manager = await signUp(ctx.app, 'manager');
    await addMember(ctx.app, f.owner, f.tenant.id, manager, 'manager');
    assert.equal((await call(ctx.app, manager, 'GET', hooks())).status, 200);
    const missing = await call<{ code: string }>(ctx.app, f.owner, 'GET', `${hooks()}/00000000-0000-4000-8000-000000000000`);
    assert.equal(missing.status, 404);
    assert.equal((await call(ctx.app, f.owner, 'PATCH', `${hooks()}/00000000-0000-4000-8000-000000000000`, {})).status, 400, 'an empty patch');
  });
});

test('no signing secret reaches a log line (ASVS 7.1.1)', () => {
  assert.ok(secretsSeen.length >= 4);
  assert.ok(logLines.length > 0);
  const all = logLines.join('');
  for (const secret of secretsSeen) assert.ok(!all.includes(secret.slice(6)), 'a webhook secret was logged');
});
