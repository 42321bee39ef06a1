/**
 * Issue 12, item 2, as an attack with real processes: two Boka instances, the built-in router
 * and the controller, signed-in load from a client, and an anonymous attacker who crafts
 * `X-API-Key` values that used to hash to green's buckets and sends requests whose outcome it
 * controls (401 for a made-up key, 400 for a malformed body, 404, 405). Before the fix the key
 * chose the color, so all of it landed on green and green's auth-failure rule paused the
 * rollout forever. Now only a router-signed cookie chooses a color and client-controlled
 * outcomes are not judged: the rollout must be promoted and green's rates must equal blue's.
 *
 * No durations are asserted: outcomes, and what the controller itself logged.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { startRolloutEnvironment, type RolloutEnvironment } from '../../../src/rollout/demo/environment.js';
import { startTraffic } from '../../../src/rollout/demo/traffic.js';
import { hashToBucket } from '../../../src/rollout/sticky.core.js';
import { finished, plan, readEvents } from './helpers.js';

/** Keys the pre-fix router sent to green at any weight ≥ 10 % (bucket < 1 000 of 10 000). */
function craftGreenKeys(count: number): string[] {
  const keys: string[] = [];
  for (let i = 0; i < 100_000 && keys.length < count; i++) {
    const key = `boka_sk_${randomUUID()}.${'A'.repeat(32)}`;
    if (hashToBucket(`key:${key}`) < 1_000) keys.push(key);
  }
  return keys;
}

describe('steering attack on a rollout (real Boka processes)', { timeout: 240_000 }, () => {
  let env: RolloutEnvironment;
  let reportRoot: string;
  before(async () => {
    reportRoot = mkdtempSync(join(tmpdir(), 'boka-rollout-attack-'));
    env = await startRolloutEnvironment();
  });
  after(async () => {
    await env?.close();
    if (reportRoot) rmSync(reportRoot, { recursive: true, force: true });
  });

  it('regression (issue 12 item 2): crafted keys aimed at green neither steer traffic nor stop or roll back the rollout', async () => {
    const p = plan(`
interval: 1s
window: 3s
minSamples: 10
# Issue 13: steps pass on conclusive evidence (the deadline tolerates a loaded machine); the
# p95 success criterion would depend on this machine's speed.
successCriteria: [{ metric: error_rate, op: "<", threshold: 0.1% }]
steps:
  - { weight: 10, duration: 4s, progressDeadline: 60s }
  - { weight: 50, duration: 3s, progressDeadline: 60s }
  - { weight: 100 }
rules:
  - { name: error-rate, metric: error_rate, op: ">", threshold: 1%, action: rollback }
  - { name: auth-failures, metric: auth_failure_rate, op: ">", threshold: 5%, action: pause }
  - { name: db-errors, metric: db_error_rate, op: ">", threshold: 5%, action: rollback }
bake: { duration: 3s, interval: 1s }
`);
    const rollout = await env.startRollout(p, { reportRoot });
    const traffic = startTraffic({ url: rollout.routerUrl, users: 8, rps: 60, loginEvery: 8 });
    const agent = new Agent({ connections: 8 });
    const keys = craftGreenKeys(50);
    const statuses = new Map<number, number>();
    let stop = false;
    const attack = async (worker: number) => {
      for (let i = 0; i < 20_000 && !stop; i++) {
        const key = keys[(i + worker) % keys.length]!;
        const shot = [
          { method: 'GET' as const, path: '/api/auth/me', headers: { 'x-api-key': key } },
          { method: 'GET' as const, path: `/api/tenants/${randomUUID()}`, headers: { authorization: `Bearer ${key}` } },
          { method: 'POST' as const, path: '/api/auth/login', headers: { 'x-api-key': key, 'content-type': 'application/json' }, body: '{"email":' },
          { method: 'GET' as const, path: '/api/no-such-route', headers: { 'x-api-key': key } },
          { method: 'DELETE' as const, path: '/api/health', headers: { 'x-api-key': key } },
        ][i % 5]!;
        const res = await request(`${rollout.routerUrl}${shot.path}`, { method: shot.method, headers: shot.headers, body: shot.body, dispatcher: agent });
        await res.body.dump();
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    let attackers: Promise<void>[] = [];
    try {
      await traffic.ready;
      attackers = [0, 1, 2, 3].map((w) => attack(w));
      await rollout.controller.start();
      const result = await finished(rollout, 90_000);
      stop = true;
      await Promise.all(attackers);

      assert.equal(result.outcome, 'promoted', JSON.stringify(result.report.timeline.slice(-3)));
      const sent = [...statuses.values()].reduce((a, b) => a + b, 0);
      assert.ok(sent > 100, `the attack ran (${sent} requests)`);
      // Every attack request got a client-controlled answer (and no 5xx, which would count).
      assert.ok([...statuses.keys()].every((s) => s >= 400 && s < 500), JSON.stringify([...statuses]));
      assert.equal(traffic.stats.failed, 0, JSON.stringify(traffic.stats.failures.slice(0, 5)));

      const { observations, decisions } = readEvents(rollout.outputDir);
      assert.ok(!decisions.some((d) => d.kind === 'pause' || d.kind === 'rollback'), JSON.stringify(decisions.map((d) => d.kind)));
      for (const o of observations) {
        const green = o.green.metrics;
        const blue = o.blue.metrics;
        if (green.error_rate && blue.error_rate) assert.equal(green.error_rate.value, blue.error_rate.value, `observation ${o.seq}`);
        assert.ok((green.auth_failure_rate?.value ?? 0) <= 0.05, `observation ${o.seq}: green auth failures ${green.auth_failure_rate?.value}`);
      }
      // The crafted keys did not pin the attack to green: blue took its share while green was small.
      const edge = rollout.router.readStats(10 * 60_000);
      assert.ok(edge.blue.clientControlled > 0 && edge.green.clientControlled > 0, JSON.stringify({ blue: edge.blue.clientControlled, green: edge.green.clientControlled }));
    } finally {
      stop = true;
      await Promise.all(attackers);
      await traffic.stop();
      await agent.close();
    }
  });
});
