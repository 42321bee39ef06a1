import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { createRouter, type Router } from '../../../src/rollout/router/router.js';
import { startBackend, type Backend } from '../helpers/backends.js';

const agent = new Agent({ connections: 32 });
// Dead upstreams here refuse connections (ejected at once); a timeout would only count event-loop
// stalls of a loaded machine as soft failures, so it is generous.
const FAST_CHECKS = { path: '/api/health/ready', intervalMs: 50, timeoutMs: 5_000 };

async function send(url: string, init: { method?: 'GET' | 'POST' | 'HEAD'; headers?: Record<string, string>; body?: string } = {}) {
  const res = await request(url, { method: init.method ?? 'GET', headers: init.headers, body: init.body ?? null, dispatcher: agent });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A green that passes its readiness checks but cuts every other connection (or answers `status`). */
async function startBrokenGreen(mode: 'cut' | 503): Promise<{ url: string; hits: number; close(): Promise<void> }> {
  const state: { url: string; hits: number; close: () => Promise<void> } = { url: '', hits: 0, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    if (req.url === '/api/health/ready') return void res.writeHead(200).end('{"status":"ok"}');
    state.hits++;
    if (mode === 'cut') req.socket.destroy();
    else res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"draining"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () => new Promise<void>((r) => {
    server.close(() => r());
    server.closeAllConnections();
  });
  return state;
}

describe('health-aware edge (issue 13, part 4)', () => {
  let blue: Backend;
  before(async () => {
    blue = await startBackend('blue');
  });
  after(async () => {
    await blue.close();
    await agent.close();
  });

  it('retries a GET on blue when green\'s connection fails, and still counts the failure against green', async () => {
    const green = await startBrokenGreen('cut');
    const router = createRouter({ blue: [blue.url], green: [green.url], initialWeight: 100, healthCheck: { ...FAST_CHECKS, intervalMs: 60_000 } });
    const url = (await router.listen(0, '127.0.0.1')).url;
    try {
      const res = await send(`${url}/x`);
      assert.equal(res.status, 200);
      assert.equal(res.body.color, 'blue');
      assert.equal(res.headers['x-boka-color'], 'blue');
      assert.equal(res.headers['x-boka-retried-from'], 'green');
      assert.equal(green.hits, 1);
      const stats = router.readStats(60_000);
      assert.equal(stats.green.status5xx, 1, 'the rollout still sees green fail');
      assert.match(stats.green.recentErrors[0]?.detail ?? '', /retried on blue/);
      const metrics = await router.metrics.exposition();
      assert.match(metrics, /boka_router_retries_total\{from="green",to="blue"\} 1/);
      assert.match(metrics, /boka_router_upstream_errors_total\{color="green",kind="connect"\} 1/);
      // The failed connection ejected green at once (passive); state says so.
      assert.equal(router.readState().colors.green.health, 'unhealthy');
    } finally {
      await router.close();
      await green.close();
    }
  });

  it('never retries a POST without Idempotency-Key; retries one with it, body intact', async () => {
    const green = await startBrokenGreen(503);
    const router = createRouter({ blue: [blue.url], green: [green.url], initialWeight: 100, healthCheck: FAST_CHECKS });
    const url = (await router.listen(0, '127.0.0.1')).url;
    try {
      const post = await send(`${url}/echo`, { method: 'POST', body: '{"n":1}', headers: { 'content-type': 'application/json' } });
      assert.equal(post.status, 503);
      assert.equal(post.headers['x-boka-color'], 'green');
      assert.equal(post.headers['x-boka-retried-from'], undefined);
      const keyed = await send(`${url}/echo`, { method: 'POST', body: '{"n":2}', headers: { 'content-type': 'application/json', 'idempotency-key': 'k-123' } });
      assert.equal(keyed.status, 200);
      assert.equal(keyed.body.color, 'blue');
      assert.equal(keyed.body.body, '{"n":2}');
      assert.equal(keyed.headers['x-boka-retried-from'], 'green');
      const get = await send(`${url}/x`);
      assert.equal(get.body.color, 'blue');
      const keyedNoBody = await request(`${url}/x`, { method: 'DELETE', headers: { 'idempotency-key': 'k-789' }, dispatcher: agent });
      await keyedNoBody.body.dump();
      assert.equal(keyedNoBody.headers['x-boka-retried-from'], 'green', 'a keyed request without a body is retried too');
      assert.equal(green.hits, 4, 'each request reached green exactly once');
      // A chunked body is streamed once, so never retried.
      const chunked = await request(`${url}/echo`, { method: 'POST', body: Readable.from([Buffer.from('{"n":3}')]), headers: { 'idempotency-key': 'k-456' }, dispatcher: agent });
      await chunked.body.dump();
      assert.equal(chunked.statusCode, 503);
    } finally {
      await router.close();
      await green.close();
    }
  });

  it('ejects a dead green, gives its share to blue (sticky cookie kept), and takes it back once it is ready again', async () => {
    const green = await startBackend('green');
    const port = Number(new URL(green.url).port);
    const router = createRouter({ blue: [blue.url], green: [green.url], initialWeight: 100, healthCheck: FAST_CHECKS });
    const url = (await router.listen(0, '127.0.0.1')).url;
    let revived: Server | null = null;
    try {
      await until('green healthy', () => router.readState().colors.green.health === 'healthy');
      const first = await send(`${url}/x`);
      assert.equal(first.body.color, 'green');
      const cookie = String(first.headers['set-cookie']).split(';')[0] ?? '';
      await green.close();
      // POSTs are not retried: every one sent before the ejection may fail, none after.
      let failedBefore = 0;
      await until('green ejected', async () => {
        const r = await send(`${url}/echo`, { method: 'POST', body: '{}', headers: { cookie } });
        if (r.status !== 200) failedBefore++;
        return router.readState().colors.green.health === 'unhealthy';
      });
      assert.ok(failedBefore <= 1, `${failedBefore} failed POSTs before the ejection (one at most: the first failed connection ejects)`);
      const during = await Promise.all(Array.from({ length: 20 }, () => send(`${url}/echo`, { method: 'POST', body: '{}', headers: { cookie } })));
      assert.deepEqual(new Set(during.map((r) => `${r.status} ${String(r.body.color)}`)), new Set(['200 blue']));
      assert.ok(during.every((r) => r.headers['set-cookie'] === undefined), 'the cookie is kept, not reissued');
      const metrics = await router.metrics.exposition();
      assert.match(metrics, /boka_router_upstream_healthy\{color="green",upstream="http:\/\/127\.0\.0\.1:\d+"\} 0/);
      assert.match(metrics, /boka_router_ejections_total\{color="green"\} [1-9]/);
      // Green comes back on the same port: after two passing checks the client is back on it.
      revived = createServer((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ color: 'green' })));
      await new Promise<void>((r) => revived!.listen(port, '127.0.0.1', r));
      await until('green healthy again', () => router.readState().colors.green.health === 'healthy');
      assert.equal((await send(`${url}/x`, { headers: { cookie } })).body.color, 'green');
    } finally {
      await router.close();
      if (revived) await new Promise<void>((r) => { revived!.close(() => r()); revived!.closeAllConnections(); });
    }
  });

  it('reports a dead blue in GET /_router/state, so a controller can refuse to roll back onto it', async () => {
    const deadBlue = await startBackend('blue');
    await deadBlue.close();
    const green = await startBackend('green');
    const router: Router = createRouter({ blue: [deadBlue.url], green: [green.url], initialWeight: 100, healthCheck: FAST_CHECKS });
    const admin = (await router.listenAdmin(0, '127.0.0.1')).url;
    try {
      await until('blue ejected', () => router.readState().colors.blue.health === 'unhealthy');
      const state = await send(`${admin}/_router/state`);
      const colors = state.body.colors as Record<string, { health: string; instances: { url: string; status: string; detail: string }[] }>;
      assert.equal(colors.blue?.health, 'unhealthy');
      assert.equal(colors.blue?.instances[0]?.url, deadBlue.url);
      assert.match(colors.blue?.instances[0]?.detail ?? '', /ECONNREFUSED/);
      assert.equal(colors.green?.health, 'healthy');
    } finally {
      await router.close();
      await green.close();
    }
  });

  it('serves /metrics on the admin listener with the admin API\'s policy: the token when set', async () => {
    const green = await startBackend('green');
    const router = createRouter({ blue: [blue.url], green: [green.url], adminToken: 'metr1cs-t0ken', healthCheck: FAST_CHECKS });
    const traffic = (await router.listen(0, '127.0.0.1')).url;
    const admin = (await router.listenAdmin(0, '127.0.0.1')).url;
    try {
      await send(`${traffic}/x`);
      const denied = await request(`${admin}/metrics`, { dispatcher: agent });
      assert.equal(denied.statusCode, 403);
      assert.equal(((await denied.body.json()) as { error: string }).error, 'forbidden');
      const put = await request(`${admin}/_router/admin/phase`, { method: 'PUT', body: '{"phase":"progressing"}', headers: { authorization: 'Bearer metr1cs-t0ken' }, dispatcher: agent });
      assert.equal(put.statusCode, 200);
      await put.body.dump();
      const res = await request(`${admin}/metrics`, { headers: { authorization: 'Bearer metr1cs-t0ken' }, dispatcher: agent });
      assert.equal(res.statusCode, 200);
      const text = await res.body.text();
      for (const series of [
        'boka_router_green_weight_percent 0',
        'boka_router_rollout_phase{phase="progressing"} 1',
        'boka_router_requests_total{color="blue",class="2xx"} 1',
        'boka_router_request_duration_seconds_count{color="blue"} 1',
        'boka_router_inflight_requests{color="green"} 0',
      ]) assert.ok(text.includes(series), `missing ${series}`);
      // On the traffic port /metrics is ordinary traffic, forwarded to a color.
      assert.equal((await send(`${traffic}/metrics`)).body.color, 'blue');
    } finally {
      await router.close();
      await green.close();
    }
  });
});
