import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Server as TcpServer } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { AddressRefusedError, addressRefusal, createPinnedDispatcher, webhookUrlRefusal, type ResolveHost } from '../../src/webhooks/index.js';
import { createTestApp, type TestContext } from '../helpers/app.js';
import { waitFor } from '../helpers/doubles.js';
import { call, createBookingFixture, ok, type BookingFixture } from '../booking/helpers.js';

/**
 * ADR 0026: a webhook connection goes to exactly the address that was checked. A DNS-rebinding
 * server answers a public address when asked first and 127.0.0.1 / 169.254.169.254 afterwards;
 * resolving once to check and again to connect would let the second answer through (OWASP SSRF
 * cheat sheet, "DNS rebinding"; ASVS 4.0.3 12.6.1).
 */

const listen = <S extends Server | TcpServer>(s: S, host: string) => new Promise<S>((r) => s.listen(0, host, () => r(s)));
const portOf = (s: Server | TcpServer) => (s.address() as AddressInfo).port;
const close = (s: Server | TcpServer) => new Promise((r) => s.close(r));

/** A listener that counts the connections reaching it and answers 418, so a request that got there ends (and fails) at once. */
function connectionCounter() {
  const seen = { count: 0 };
  const server = createServer((_req, res) => res.writeHead(418, { connection: 'close' }).end());
  server.on('connection', () => (seen.count += 1));
  return { server, seen };
}

/** A resolver playing a rebinding DNS server: `answers[i]` for the i-th question, the last one forever after. */
function rebinding(answers: string[][]) {
  const asked: string[] = [];
  const resolve: ResolveHost = async (host) => {
    asked.push(host);
    return answers[Math.min(asked.length, answers.length) - 1] ?? [];
  };
  return { resolve, asked };
}

describe('the pinned dispatcher', () => {
  // The policy under test elsewhere; here 127.0.0.2 plays "the public address" so the whole
  // attack stays on this machine: it is the checked answer, 127.0.0.1 the rebound one.
  const onlyDotTwo = (_host: string, addresses: readonly string[]) => (addresses.every((a) => a === '127.0.0.2') ? null : 'not the checked address');
  let allowed: Server;
  let hosts: (string | undefined)[];
  const forbidden = connectionCounter();
  before(async () => {
    hosts = [];
    allowed = await listen(createServer((req, res) => {
      hosts.push(req.headers.host);
      res.writeHead(204).end();
    }), '127.0.0.2');
    // The forbidden listener shares the port, so only the address decides which one is reached.
    await new Promise<void>((r) => forbidden.server.listen(portOf(allowed), '127.0.0.1', r));
  });
  after(async () => {
    await close(allowed);
    await close(forbidden.server);
  });

  async function post(url: string, resolve: ResolveHost) {
    const dispatcher = createPinnedDispatcher({ resolve, policy: onlyDotTwo, timeoutMs: 2000 });
    try {
      const res = await request(url, { method: 'POST', body: '{}', dispatcher });
      await res.body.dump();
      return res.statusCode;
    } catch (err) {
      return err;
    } finally {
      await dispatcher.destroy();
    }
  }

  test('checked-then-rebound: one resolution per connection, to the checked address; the rebound answer is refused', async () => {
    const dns = rebinding([['127.0.0.2'], ['127.0.0.1']]);
    const url = `http://hooks.rebind.invalid:${portOf(allowed)}/hook`;
    assert.equal(await post(url, dns.resolve), 204);
    assert.deepEqual(dns.asked, ['hooks.rebind.invalid'], 'a second resolution is the rebinding window');
    assert.deepEqual(hosts, [`hooks.rebind.invalid:${portOf(allowed)}`], 'the Host header keeps the name');
    const second = await post(url, dns.resolve);
    assert.ok(second instanceof AddressRefusedError, String(second));
    assert.equal(second.message, 'refused: not the checked address');
    assert.equal(forbidden.seen.count, 0, 'the rebound address was never connected to');
  });

  test('one bad address among the answers refuses them all; no answer or a failing resolver refuses too', async () => {
    const url = `http://hooks.mixed.invalid:${portOf(allowed)}/hook`;
    for (const [resolve, message] of [
      [async () => ['127.0.0.2', '127.0.0.1'], 'refused: not the checked address'],
      [async () => ['127.0.0.1', '127.0.0.2'], 'refused: not the checked address'],
      [async () => [], 'refused: host does not resolve'],
      [async () => Promise.reject(new Error('SERVFAIL')), 'refused: host does not resolve'],
    ] as const) {
      const outcome = await post(url, resolve);
      assert.ok(outcome instanceof AddressRefusedError, String(outcome));
      assert.equal(outcome.message, message);
    }
    assert.equal(forbidden.seen.count, 0);
  });

  test('TLS still names the host (SNI), not the pinned address', async () => {
    const names: string[] = [];
    // No certificate: the handshake fails after the ClientHello, which is all this needs.
    const tls = createTlsServer({ SNICallback: (name, cb) => { names.push(name); cb(new Error('no certificate here'), undefined); } });
    tls.on('tlsClientError', () => {});
    await listen(tls, '127.0.0.2');
    const dns = rebinding([['127.0.0.2']]);
    const outcome = await post(`https://hooks.tls.invalid:${portOf(tls)}/hook`, dns.resolve);
    await close(tls);
    assert.ok(outcome instanceof Error && !(outcome instanceof AddressRefusedError), String(outcome));
    assert.deepEqual(names, ['hooks.tls.invalid']);
    assert.deepEqual(dns.asked, ['hooks.tls.invalid']);
  });
});

describe('address rules in production (ASVS 12.6.1)', () => {
  test('every spelling of a forbidden address is refused once the URL parser made it canonical', () => {
    for (const url of [
      'https://[::ffff:127.0.0.1]/h', 'https://[::ffff:7f00:1]/h', 'https://[::ffff:169.254.169.254]/h', 'https://[::127.0.0.1]/h',
      'https://2130706433/h', 'https://0177.0.0.1/h', 'https://0x7f.1/h', 'https://127.1/h', 'https://017700000001/h',
      'https://0.0.0.0/h', 'https://0/h', 'https://[::]/h', 'https://[::1]/h', 'https://[0:0:0:0:0:0:0:1]/h',
      'https://169.254.169.254/latest/meta-data', 'https://2852039166/h', 'https://[fe80::1]/h', 'https://[64:ff9b::a9fe:a9fe]/h',
    ]) {
      assert.notEqual(webhookUrlRefusal(url, true), null, url);
    }
    assert.equal(webhookUrlRefusal('https://93.184.216.34/h', true), null);
    assert.equal(webhookUrlRefusal('https://[2606:2800:220:1:248:1893:25c8:1946]/h', true), null);
    assert.equal(webhookUrlRefusal('https://hooks.example.com/h', true), null, 'a name is judged where it is resolved');
  });

  test('resolved answers: any forbidden one refuses; loopback only for a loopback name and only outside production', () => {
    assert.equal(addressRefusal('hooks.example.com', ['93.184.216.34'], true), null);
    assert.notEqual(addressRefusal('hooks.example.com', ['93.184.216.34', '::ffff:7f00:1'], true), null);
    assert.notEqual(addressRefusal('hooks.example.com', ['::'], false), null);
    assert.notEqual(addressRefusal('hooks.example.com', ['127.0.0.1'], false), null, 'a name is no loopback name');
    assert.equal(addressRefusal('localhost', ['127.0.0.1', '::1'], false), null);
    assert.notEqual(addressRefusal('localhost', ['127.0.0.1'], true), null);
    assert.notEqual(addressRefusal('localhost', ['10.0.0.1'], false), null, 'localhost answering a private address');
    assert.equal(addressRefusal('localhost', [], false), 'host does not resolve');
  });
});

describe('through the app: registration and every delivery attempt', () => {
  let ctx: TestContext;
  let f: BookingFixture;
  let names: Map<string, ReturnType<typeof rebinding>>;
  const target = connectionCounter();
  const received: { path: string; headers: IncomingHttpHeaders }[] = [];
  let receiver: Server;
  let offset = 0;

  before(async () => {
    await listen(target.server, '127.0.0.1');
    receiver = await listen(createServer((req, res) => {
      received.push({ path: req.url ?? '', headers: req.headers });
      req.resume();
      if (req.url === '/redirect') res.writeHead(307, { location: `http://127.0.0.1:${portOf(receiver)}/landed` }).end();
      else res.writeHead(204).end();
    }), '127.0.0.1');
    names = new Map();
    const resolveHost: ResolveHost = async (host) => {
      const dns = names.get(host);
      if (!dns) throw new Error(`ENOTFOUND ${host}`);
      return dns.resolve(host);
    };
    ctx = await createTestApp({
      deps: { resolveHost, clock: { now: () => Date.now() + offset } },
      env: { JOBS_POLL_MS: '20', WEBHOOK_BACKOFF_BASE_MS: '1000', WEBHOOK_MAX_ATTEMPTS: '3', WEBHOOK_DISABLE_AFTER_FAILURES: '10', WEBHOOK_TIMEOUT_MS: '2000' },
    });
    f = await createBookingFixture(ctx.app);
  });
  after(async () => {
    await ctx.close();
    await close(target.server);
    await close(receiver);
  });

  let slotDay = 1;
  async function book(): Promise<void> {
    const day = new Date(Date.now() + slotDay++ * 86_400_000).toISOString().slice(0, 10);
    await ok(ctx.app, f.owner, 'POST', `${f.base}/reservations`, { serviceId: f.serviceId, staffId: f.staffId, customerId: f.customerId, start: `${day}T10:00:00Z` });
  }
  async function deliveries(endpointId: string, atLeast: number) {
    return waitFor(async () => {
      const l = await ok<{ items: { attempt: number; outcome: string; statusCode: number | null; error: string | null }[] }>(ctx.app, f.owner, 'GET', `${f.base}/webhooks/${endpointId}/deliveries`);
      return l.items.length >= atLeast ? l.items : null;
    }, 500);
  }

  test('a host that answered public at registration and loopback at send time is never connected to; one lookup per attempt', async () => {
    const dns = rebinding([['93.184.216.34'], ['127.0.0.1'], ['169.254.169.254'], ['::ffff:127.0.0.1']]);
    names.set('hooks.rebind.test', dns);
    const created = await ok<{ endpoint: { id: string } }>(ctx.app, f.owner, 'POST', `${f.base}/webhooks`, { url: `https://hooks.rebind.test:${portOf(target.server)}/hook`, events: ['reservation.created'] });
    assert.equal(dns.asked.length, 1, 'registration resolved once');
    await book();
    await deliveries(created.endpoint.id, 1);
    offset += 1000;
    await deliveries(created.endpoint.id, 2);
    offset += 2000;
    const log = await deliveries(created.endpoint.id, 3);
    assert.deepEqual(log.map((d) => [d.attempt, d.outcome, d.statusCode, d.error]), [3, 2, 1].map((n) => [n, 'failed', null, 'refused: resolves to a private, loopback or link-local address']));
    assert.equal(dns.asked.length, 1 + 3, 'each attempt resolved exactly once: the check and the connection share it');
    assert.equal(target.seen.count, 0);
  });

  test('registration refuses a name with any forbidden answer or none, and forbidden literal addresses in any spelling', async () => {
    names.set('mixed.rebind.test', rebinding([['93.184.216.34', '10.0.0.7']]));
    for (const url of ['https://mixed.rebind.test/h', 'https://unknown.rebind.test/h', 'https://[::ffff:127.0.0.1]/h', 'https://[::]/h', 'https://0.0.0.0/h', 'https://[::ffff:169.254.169.254]/h', 'https://2852039166/h']) {
      const res = await call<{ code: string; details: { field: string }[] }>(ctx.app, f.owner, 'POST', `${f.base}/webhooks`, { url, events: ['reservation.created'] });
      assert.equal(res.status, 422, url);
      assert.equal(res.body.code, 'webhook_url_refused', url);
      assert.equal(res.body.details[0]?.field, 'url');
    }
  });

  test('a loopback name resolved by the injected resolver is delivered to, Host naming it; a redirect is a failure, never followed', async () => {
    const dns = rebinding([['127.0.0.1']]);
    names.set('localhost', dns);
    const good = await ok<{ endpoint: { id: string } }>(ctx.app, f.owner, 'POST', `${f.base}/webhooks`, { url: `http://localhost:${portOf(receiver)}/ok`, events: ['reservation.created'] });
    const moved = await ok<{ endpoint: { id: string } }>(ctx.app, f.owner, 'POST', `${f.base}/webhooks`, { url: `http://localhost:${portOf(receiver)}/redirect`, events: ['reservation.created'] });
    await book();
    const [delivered] = await deliveries(good.endpoint.id, 1);
    assert.equal(delivered?.outcome, 'delivered');
    const [redirected] = await deliveries(moved.endpoint.id, 1);
    assert.deepEqual([redirected?.outcome, redirected?.statusCode, redirected?.error], ['failed', 307, 'HTTP 307']);
    assert.equal(received.find((r) => r.path === '/ok')?.headers.host, `localhost:${portOf(receiver)}`);
    assert.equal(received.filter((r) => r.path === '/landed').length, 0);
  });
});
