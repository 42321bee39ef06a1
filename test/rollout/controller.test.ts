import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { loadPlan } from '../../src/rollout/plan.core.js';
import type { Plan } from '../../src/rollout/plan.schema.js';
import { startRollout, type RunningRollout } from '../../src/rollout/start-rollout.js';
import { buildToken } from './helpers/backends.js';
import { createFakeStore, startFakeBoka } from './helpers/fake-boka.js';

const reportRoot = mkdtempSync(join(tmpdir(), 'boka-rollouts-'));
after(() => rmSync(reportRoot, { recursive: true, force: true }));

// Issue 13: a step passes on conclusive evidence, so the short step gets a progress deadline
// that tolerates a loaded machine; the success criteria are judged in the decision tests.
function fastPlan(steps = '[{ weight: 30, duration: 300ms, progressDeadline: 60s }, { weight: 100 }]'): Plan {
  const result = loadPlan(`
successCriteria: []
interval: 100ms
window: 2s
minSamples: 5
drainTimeout: 2s
steps: ${steps}
rules:
  - { name: error-rate, metric: error_rate, op: ">", threshold: 1%, action: rollback, compareWithBlue: { margin: 0.5% } }
bake: { duration: 300ms, interval: 100ms }
`);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.plan;
}

/** Sends signed-in traffic through the router until stopped; returns what each color answered. */
function driveTraffic(url: string) {
  const agent = new Agent({ connections: 8 });
  let stop = false;
  let n = 0;
  const answered: Record<string, number> = {};
  const loop = (async () => {
    while (!stop) {
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          const res = await request(`${url}/api/bookings`, { headers: { authorization: `Bearer ${buildToken(`user-${n++ % 200}`)}` }, dispatcher: agent });
          await res.body.dump();
          const color = String(res.headers['x-boka-color']);
          answered[color] = (answered[color] ?? 0) + 1;
        }),
      );
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return {
    answered,
    async stop() {
      stop = true;
      await loop;
      await agent.close();
    },
  };
}

async function withRollout(plan: Plan, green: { failEvery?: number; deepOk?: boolean }, body: (r: RunningRollout) => Promise<void>) {
  const store = createFakeStore();
  const blueApp = await startFakeBoka('blue', store);
  const greenApp = await startFakeBoka('green', store, green);
  const rollout = await startRollout({ plan, blue: [blueApp.url], green: [greenApp.url], listenHost: '127.0.0.1', listenPort: 0, reportRoot });
  try {
    await body(rollout);
  } finally {
    await rollout.close();
    await Promise.all([blueApp.close(), greenApp.close()]);
  }
}

describe('rollout controller with the built-in router (fixture colors on 127.0.0.1)', () => {
  it('promotes a healthy green and writes the event log and both reports', async () => {
    await withRollout(fastPlan(), {}, async (rollout) => {
      const traffic = driveTraffic(rollout.routerUrl);
      await rollout.controller.start();
      const result = await rollout.controller.done;
      await traffic.stop();
      assert.equal(result.outcome, 'promoted');
      assert.equal(rollout.router.readState().greenWeight, 100);
      const json = JSON.parse(readFileSync(join(rollout.outputDir, 'report.json'), 'utf8')) as Record<string, unknown> & { steps: { weight: number }[]; successCriteria: { name: string; pass: boolean }[] };
      assert.equal(json.outcome, 'promoted');
      assert.equal(json.timeToDetectMs, null);
      assert.deepEqual(json.steps.map((s) => s.weight), [30, 100]);
      assert.ok(json.successCriteria.find((c) => c.name === 'error rate')?.pass);
      const md = readFileSync(result.reportPath, 'utf8');
      assert.match(md, /## Success criteria/);
      const events = readFileSync(join(rollout.outputDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; kind?: string });
      assert.ok(events.some((e) => e.type === 'preflight'));
      assert.ok(events.filter((e) => e.type === 'decision').some((e) => e.kind === 'bake_started'));
      assert.ok((traffic.answered.green ?? 0) > 0 && (traffic.answered.blue ?? 0) > 0);
    });
  });

  it('rolls back a green with injected errors, verifies blue and records detection times', async () => {
    await withRollout(fastPlan(), { failEvery: 5 }, async (rollout) => {
      const traffic = driveTraffic(rollout.routerUrl);
      await rollout.controller.start();
      const result = await rollout.controller.done;
      await traffic.stop();
      assert.equal(result.outcome, 'rolled_back');
      assert.equal(rollout.router.readState().greenWeight, 0);
      const { report } = result;
      assert.equal(report.incident?.rule?.rule, 'error-rate');
      assert.ok(report.timeToDetectMs !== null && report.timeToDetectMs >= 0);
      assert.ok(report.timeToRollbackMs !== null && report.timeToRollbackMs >= 0);
      assert.equal(report.blueVerification?.ok, true);
      // Blue was deep-checked at the step's entry, before the rollback decision, and the report names it.
      assert.equal(report.blueBeforeRollback?.ok, true);
      assert.match(readFileSync(result.reportPath, 'utf8'), /## Blue before the rollback\n\nBlue deep health at .*: passing/);
      assert.ok(report.incident && report.incident.lastErrors.length > 0, 'last errors seen are in the incident');
      assert.match(readFileSync(result.reportPath, 'utf8'), /## Incident[\s\S]*error-rate/);
    });
  });

  it('never sends green traffic when preflight fails', async () => {
    await withRollout(fastPlan(), { deepOk: false }, async (rollout) => {
      const traffic = driveTraffic(rollout.routerUrl);
      await rollout.controller.start();
      const result = await rollout.controller.done;
      await traffic.stop();
      assert.equal(result.outcome, 'aborted');
      assert.equal(rollout.router.readStats(60_000).green.requests, 0);
      assert.equal(traffic.answered.green, undefined);
      assert.match(result.report.timeline.find((t) => t.kind === 'preflight_failed')?.message ?? '', /deep .*503/);
    });
  });

  it('takes pause and rollback commands through the router admin API', async () => {
    await withRollout(fastPlan('[{ weight: 20, duration: 1h }, { weight: 100 }]'), {}, async (rollout) => {
      const traffic = driveTraffic(rollout.routerUrl);
      await rollout.controller.start();
      const post = async (cmd: string) => {
        const res = await request(`${rollout.adminUrl}/_router/admin/rollout/${cmd}`, { method: 'POST', body: JSON.stringify({ by: 'test' }) });
        return { status: res.statusCode, body: (await res.body.json()) as { accepted: boolean; message: string } };
      };
      const paused = await post('pause');
      assert.equal(paused.status, 200);
      assert.match(paused.body.message, /paused by test/);
      const status = (await (await request(`${rollout.adminUrl}/_router/admin/rollout`)).body.json()) as { phase: string };
      assert.equal(status.phase, 'paused');
      assert.equal((await post('resume')).status, 200);
      assert.equal((await post('resume')).status, 409, 'resume when not paused is refused');
      assert.equal((await post('rollback')).status, 200);
      const result = await rollout.controller.done;
      await traffic.stop();
      assert.equal(result.outcome, 'rolled_back');
      assert.equal(result.report.timeToDetectMs, null, 'an operator rollback has no detection time');
    });
  });
});
