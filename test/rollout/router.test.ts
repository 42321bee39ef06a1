import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { isAdminAuthorized } from '../../src/rollout/router/admin.js';
import { createRouter, type Router } from '../../src/rollout/router/router.js';
import { buildToken, startBackend, type Backend } from './helpers/backends.js';

const agent = new Agent({ connections: 64 });

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await request(url, { headers, dispatcher: agent });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function putWeight(base: string, greenWeight: number) {
  const res = await request(`${base}/_router/admin/weight`, { method: 'PUT', body: JSON.stringify({ greenWeight }), headers: { 'content-type': 'application/json' }, dispatcher: agent });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
}

describe('admin listener (issue 12, router admin API)', () => {
  it('serves /_router/* only on its own listener; on the traffic port the path is ordinary traffic', async () => {
    const blue = await startBackend('blue');
    const green = await startBackend('green');
    const router = createRouter({ blue: [blue.url], green: [green.url], adminToken: 'adm1n-t0ken' });
    const traffic = (await router.listen(0, '127.0.0.1')).url;
    const admin = (await router.listenAdmin(0, '127.0.0.1')).url;
    try {
      // The traffic port never answers the admin API: not the state, not a weight change.
      const viaTraffic = await get(`${traffic}/_router/state`, { authorization: 'Bearer adm1n-t0ken' });
      assert.equal(viaTraffic.body.greenWeight, undefined);
      assert.equal(viaTraffic.body.color, 'blue', 'forwarded to a color like any path');
      const put = await putWeight(traffic, 100);
      assert.equal(put.body.greenWeight, undefined);
      assert.equal(router.readState().greenWeight, 0);
      // The admin listener keeps the operator('router_admin') policy: with a token set, even
      // loopback callers need it.
      assert.equal((await get(`${admin}/_router/state`)).status, 403);
      const ok = await get(`${admin}/_router/state`, { authorization: 'Bearer adm1n-t0ken' });
      assert.equal(ok.status, 200);
      assert.equal(ok.body.greenWeight, 0);
      // And it serves nothing but the admin API.
      assert.equal((await get(`${admin}/api/health`, { authorization: 'Bearer adm1n-t0ken' })).status, 404);
    } finally {
      await router.close();
      await Promise.all([blue.close(), green.close()]);
    }
  });
});

describe('built-in router', () => {
  let blue: Backend;
  let green: Backend;
  let router: Router;
  let base: string;
  let adminBase: string;
  let nextId = 0;

  before(async () => {
    blue = await startBackend('blue');
    green = await startBackend('green');
    // Deterministic anonymous ids make the weight test reproducible.
    router = createRouter({ blue: [blue.url], green: [green.url], createStickyId: () => `anon-${nextId++}` });
    base = (await router.listen(0, '127.0.0.1')).url;
    adminBase = (await router.listenAdmin(0, '127.0.0.1')).url;
  });
  after(async () => {
    await router.close();
    await Promise.all([blue.close(), green.close()]);
    await agent.close();
  });

  it('routes new anonymous clients in proportion to the weight, and says which color answered', async () => {
    router.setWeight(30);
    let greenCount = 0;
    const n = 2000;
    for (let batch = 0; batch < n; batch += 100) {
      const results = await Promise.all(Array.from({ length: 100 }, () => get(`${base}/x`)));
      for (const r of results) {
        assert.equal(r.status, 200);
        assert.equal(r.headers['x-boka-color'], r.body.color, 'x-boka-color names the color that answered');
        if (r.body.color === 'green') greenCount++;
      }
    }
    const share = greenCount / n;
    assert.ok(share > 0.26 && share < 0.34, `green share ${share} for weight 30`);
  });

  it('gives a new anonymous client a boka_sticky cookie that keeps it on its color', async () => {
    router.setWeight(50);
    const first = await get(`${base}/x`);
    const cookie = String(first.headers['set-cookie']).split(';')[0] ?? '';
    assert.match(cookie, /^boka_sticky=/);
    for (let i = 0; i < 20; i++) {
      const again = await get(`${base}/x`, { cookie });
      assert.equal(again.body.color, first.body.color);
      assert.equal(again.headers['set-cookie'], undefined);
    }
  });

  it('keeps cookie holders on one color and only moves them blue → green as the weight rises', async () => {
    router.setWeight(0);
    const cookies = await Promise.all(
      Array.from({ length: 300 }, async () => String((await get(`${base}/me`)).headers['set-cookie']).split(';')[0] ?? ''),
    );
    const seen: string[][] = cookies.map(() => []);
    for (const weight of [0, 10, 25, 50, 75, 100]) {
      router.setWeight(weight);
      const colors = await Promise.all(cookies.map((cookie) => get(`${base}/me`, { cookie }).then((r) => String(r.body.color))));
      const again = await Promise.all(cookies.slice(0, 50).map((cookie) => get(`${base}/me`, { cookie }).then((r) => String(r.body.color))));
      assert.deepEqual(again, colors.slice(0, 50));
      colors.forEach((c, i) => seen[i]?.push(c));
      const greenShare = colors.filter((c) => c === 'green').length / cookies.length;
      assert.ok(Math.abs(greenShare - weight / 100) < 0.08, `weight ${weight}: green share ${greenShare}`);
    }
    for (const history of seen) {
      const firstGreen = history.indexOf('green');
      if (firstGreen >= 0) assert.ok(history.slice(firstGreen).every((c) => c === 'green'), `moved back: ${history.join(',')}`);
      assert.equal(history.at(-1), 'green');
      assert.equal(history[0], 'blue');
    }
  });

  it('regression (issue 12 item 2): API keys, bearer tokens and unsigned cookies never choose the color', async () => {
    router.setWeight(50);
    for (const headers of <Record<string, string>[]>[
      { 'x-api-key': 'boka_sk_aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa.AAAA' },
      { authorization: `Bearer ${buildToken('chosen-session')}` },
      { authorization: 'Bearer boka_sk_crafted' },
      { cookie: 'boka_sticky=anon-1' },
    ]) {
      const colors = new Map<string, number>();
      for (let i = 0; i < 60; i++) {
        const r = await get(`${base}/x`, headers);
        colors.set(String(r.body.color), (colors.get(String(r.body.color)) ?? 0) + 1);
        // Each such request is a new client: it gets a fresh signed cookie.
        assert.match(String(r.headers['set-cookie']), /^boka_sticky=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43};/);
      }
      assert.equal(colors.size, 2, `${JSON.stringify(headers)} stuck to one color: ${JSON.stringify([...colors])}`);
    }
  });

  it('applies a weight change atomically: every request after the change goes to the new color', async () => {
    router.setWeight(0);
    let stop = false;
    const background = (async () => {
      while (!stop) await Promise.all(Array.from({ length: 10 }, () => get(`${base}/x`)));
    })();
    await get(`${base}/x`);
    const put = await putWeight(adminBase, 100);
    assert.equal(put.status, 200);
    assert.equal(put.body.greenWeight, 100);
    const state = await get(`${adminBase}/_router/state`);
    assert.equal(state.body.greenWeight, 100, 'read back');
    const after = await Promise.all(Array.from({ length: 200 }, (_, i) => get(`${base}/x`, { authorization: `Bearer ${buildToken(`atomic-${i}`)}` })));
    stop = true;
    await background;
    assert.ok(after.every((r) => r.body.color === 'green'), 'no request after the switch reached blue');
  });

  it('lets in-flight requests finish on the color they started on', async () => {
    router.setWeight(0);
    const heldBefore = blue.held;
    const inflight = get(`${base}/hold`, { authorization: `Bearer ${buildToken('slow-user')}` });
    while (blue.held === heldBefore) await new Promise((r) => setImmediate(r));
    assert.equal(router.readState().colors.blue.inflight, 1);
    router.setWeight(100);
    const drained = router.waitForDrain('blue', 10_000);
    const during = await get(`${base}/x`, { authorization: `Bearer ${buildToken('slow-user')}` });
    assert.equal(during.body.color, 'green');
    blue.release();
    const finished = await inflight;
    assert.equal(finished.status, 200);
    assert.equal(finished.body.color, 'blue');
    assert.equal(finished.body.held, true);
    assert.equal(await drained, true);
    assert.equal(router.readState().colors.blue.inflight, 0);
  });

  it('forwards request bodies and the Host header', async () => {
    router.setWeight(100);
    const res = await request(`${base}/echo`, { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' }, dispatcher: agent });
    const body = (await res.body.json()) as { body: string; host: string };
    assert.equal(body.body, '{"a":1}');
    assert.equal(body.host, new URL(base).host);
  });

  it('counts status classes and latency per color at the edge', async () => {
    const fresh = createRouter({ blue: [blue.url], green: [green.url], initialWeight: 100 });
    const url = (await fresh.listen(0, '127.0.0.1')).url;
    const adminUrl = (await fresh.listenAdmin(0, '127.0.0.1')).url;
    try {
      await Promise.all([...Array.from({ length: 30 }, () => get(`${url}/ok`)), ...Array.from({ length: 10 }, () => get(`${url}/fail`))]);
      const stats = fresh.readStats(60_000);
      assert.equal(stats.green.requests, 40);
      assert.equal(stats.green.status5xx, 10);
      assert.equal(stats.green.status2xx, 30);
      assert.equal(stats.green.errorRate, 0.25);
      assert.ok(stats.green.p95Ms !== null && stats.green.p95Ms >= 0);
      assert.equal(stats.blue.requests, 0);
      assert.equal(stats.green.recentErrors.length, 10);
      assert.equal(stats.green.recentErrors[0]?.path, '/fail');
      const viaHttp = await get(`${adminUrl}/_router/admin/stats?windowMs=60000`);
      assert.equal((viaHttp.body.green as { requests: number }).requests, 40);
    } finally {
      await fresh.close();
    }
  });

  it('answers 503 in the catalogue shape with the color when a request to a down color cannot be retried, and counts it as that color\'s 5xx', async () => {
    const down = await startBackend('gone');
    await down.close();
    // Without health checks nothing ejects green, and a POST without Idempotency-Key is never retried.
    const fresh = createRouter({ blue: [blue.url], green: [down.url], initialWeight: 100, healthCheck: false });
    const url = (await fresh.listen(0, '127.0.0.1')).url;
    try {
      const raw = await request(`${url}/x`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' }, dispatcher: agent });
      const res = { status: raw.statusCode, headers: raw.headers, body: (await raw.body.json()) as Record<string, unknown> };
      assert.equal(res.status, 503);
      assert.equal(res.headers['x-boka-color'], 'green');
      const body = res.body;
      assert.equal(body.code, 'service_unavailable');
      assert.equal(body.error, 'service_unavailable');
      assert.equal(typeof body.requestId, 'string');
      assert.equal(typeof body.timestamp, 'string');
      const stats = fresh.readStats(60_000);
      assert.equal(stats.green.status5xx, 1);
      assert.match(stats.green.recentErrors[0]?.detail ?? '', /ECONNREFUSED|connect/i);
    } finally {
      await fresh.close();
    }
  });

  it('rejects bad weights and unknown admin routes, in the documented error shape', async () => {
    const bad = await putWeight(adminBase, 150);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'validation_error');
    assert.deepEqual(bad.body.details, [{ field: 'greenWeight', in: 'body', message: 'must be a number from 0 to 100' }]);
    for (const url of [`${adminBase}/_router/nope`, `${adminBase}/_router/admin/rollout`]) {
      const res = await get(url);
      assert.equal(res.status, 404);
      assert.deepEqual(Object.keys(res.body).sort(), ['code', 'error', 'message', 'requestId', 'timestamp']);
      assert.equal(res.body.error, 'not_found');
    }
  });
});

describe('admin authorization (operator policy router_admin)', () => {
  const cases: [string, string | undefined, string | undefined, string | undefined, boolean][] = [
    ['IPv4 loopback, no token configured', '127.0.0.1', undefined, undefined, true],
    ['IPv6 loopback, no token configured', '::1', undefined, undefined, true],
    ['IPv4-mapped loopback, no token configured', '::ffff:127.0.0.1', undefined, undefined, true],
    ['remote without token configured', '10.0.0.5', 'Bearer x', undefined, false],
    ['remote with the right token', '10.0.0.5', 'Bearer s3cret', 's3cret', true],
    ['remote with a wrong token', '10.0.0.5', 'Bearer s3creT', 's3cret', false],
    ['remote with no header', '10.0.0.5', undefined, 's3cret', false],
    // A local reverse proxy makes every caller look local: once a token is set, it is required.
    ['loopback without the token once one is configured', '127.0.0.1', undefined, 's3cret', false],
    ['loopback with the right token', '127.0.0.1', 'Bearer s3cret', 's3cret', true],
  ];
  for (const [name, remote, header, token, allowed] of cases) {
    it(name, () => {
      const req = { socket: { remoteAddress: remote }, headers: header === undefined ? {} : { authorization: header } };
      assert.equal(isAdminAuthorized(req as never, token), allowed);
    });
  }
});
