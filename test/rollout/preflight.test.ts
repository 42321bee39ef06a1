import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { DEFAULT_PLAN } from '../../src/rollout/plan.core.js';
import type { Plan } from '../../src/rollout/plan.schema.js';
import { probeColorHealth, runPreflight } from '../../src/rollout/preflight.service.js';

const servers: Server[] = [];
after(() => servers.forEach((s) => s.close()));

/** A Boka-shaped instance whose deep health needs HEALTH_TOKEN (as `operator('health')` does) and reports its version. */
async function instance(version: string, token: string): Promise<string> {
  const server = createServer((req, res) => {
    if (req.url === '/api/health/ready') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', version }));
    if (req.url === '/api/health/deep') {
      if (req.headers.authorization !== `Bearer ${token}`) return void res.writeHead(403, { 'content-type': 'application/json' }).end('{"code":"forbidden","message":"The deep health check needs HEALTH_TOKEN"}');
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', version, checks: {} }));
    }
    res.writeHead(404).end();
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const plan: Plan = { ...DEFAULT_PLAN, preflight: { ...DEFAULT_PLAN.preflight, smoke: false } };

describe('preflight and health probes: HEALTH_TOKEN and the expected version', () => {
  it('passes with the health token and fails without it', async () => {
    const blue = await instance('1.0.0', 'h-token');
    const green = await instance('1.1.0', 'h-token');
    const withToken = await runPreflight(plan, [blue], [green], Date.now, undefined, { token: 'h-token', expectedVersion: '1.1.0' });
    assert.equal(withToken.ok, true, JSON.stringify(withToken.checks));
    const without = await runPreflight(plan, [blue], [green], Date.now);
    assert.equal(without.ok, false);
    assert.match(without.checks.find((c) => c.name.startsWith('deep '))?.detail ?? '', /403/);
    assert.ok(!JSON.stringify(withToken).includes('h-token'), 'the token is never in a result');
  });

  it('fails a green that reports another version, naming both', async () => {
    const green = await instance('1.0.9', 't');
    const other = await instance('1.1.0', 't');
    const result = await probeColorHealth([other, green], '/api/health/deep', 2_000, { token: 't', expectedVersion: '1.1.0' });
    assert.equal(result.ok, false);
    assert.match(result.detail, new RegExp(`${green}/api/health/deep 200 version 1\\.0\\.9, expected 1\\.1\\.0`));
    assert.match(result.detail, new RegExp(`${other}/api/health/deep 200 1\\.1\\.0`));
    const pre = await runPreflight(plan, [other], [green], Date.now, undefined, { token: 't', expectedVersion: '1.1.0' });
    assert.equal(pre.ok, false);
  });
});
