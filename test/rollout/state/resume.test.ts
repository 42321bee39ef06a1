/**
 * The controller as a client of a router it does not own: persisted state, resume at the same
 * step and weight, the lease, and drift correction. The router is the built-in one on its own
 * listeners in this process (the real-process version is test/rollout/e2e/controller-kill.e2e.test.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import type { RolloutController } from '../../../src/rollout/controller.service.js';
import { loadPlan } from '../../../src/rollout/plan.core.js';
import type { Plan } from '../../../src/rollout/plan.schema.js';
import { createRouter } from '../../../src/rollout/router/router.js';
import { LeaseHeldError } from '../../../src/rollout/state/lease.js';
import { readStateFile } from '../../../src/rollout/state/state-file.js';
import { attachRollout } from '../../../src/rollout/start-rollout.js';
import { buildToken } from '../helpers/backends.js';
import { createFakeStore, startFakeBoka } from '../helpers/fake-boka.js';

const reportRoot = mkdtempSync(join(tmpdir(), 'boka-resume-'));
after(() => rmSync(reportRoot, { recursive: true, force: true }));

function gatedPlan(): Plan {
  const result = loadPlan(`
interval: 100ms
window: 2s
minSamples: 5
drainTimeout: 2s
preflight: { smoke: false }
steps: [{ weight: 30, duration: 300ms, gate: manual, progressDeadline: 2m }, { weight: 100 }]
rules:
  - { name: error-rate, metric: error_rate, op: ">", threshold: 50%, action: rollback }
bake: { duration: 300ms, interval: 100ms }
successCriteria: []
`);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.plan;
}

async function until<T>(what: string, probe: () => T | null | undefined | false, limitMs = 20_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function events(outputDir: string): { seq: number; type: string; [k: string]: unknown }[] {
  return readFileSync(join(outputDir, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { seq: number; type: string });
}

function driveTraffic(url: string) {
  const agent = new Agent({ connections: 4 });
  let stop = false;
  let n = 0;
  let failed = 0;
  const loop = (async () => {
    while (!stop) {
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          const res = await request(`${url}/api/bookings`, { headers: { authorization: `Bearer ${buildToken(`user-${n++ % 50}`)}` }, dispatcher: agent });
          await res.body.dump();
          if (res.statusCode >= 500) failed++;
        }),
      );
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return { failed: () => failed, stop: async () => { stop = true; await loop; await agent.close(); } };
}

describe('controller state, resume, lease and drift (separate router on its own listeners)', () => {
  it('resumes at the same step and weight, refuses a second controller, and re-applies a weight changed out of band', async () => {
    const store = createFakeStore();
    const blue = await startFakeBoka('blue', store);
    const green = await startFakeBoka('green', store);
    const router = createRouter({ blue: [blue.url], green: [green.url], initialWeight: 0 });
    const { url } = await router.listen(0, '127.0.0.1');
    const admin = await router.listenAdmin(0, '127.0.0.1');
    const traffic = driveTraffic(url);
    const driver = { kind: 'router' as const, adminUrl: admin.url };
    const closers: (() => Promise<void>)[] = [];
    try {
      const first = await attachRollout({ plan: gatedPlan(), reportRoot, driver });
      closers.push(() => first.close());
      assert.equal(first.resumed, false);
      await first.controller.start();
      const atGate = (c: RolloutController) => {
        const s = c.readStatus();
        return s.phase === 'paused' && s.pauseReason === 'manual_gate' && s.weight === 30 ? s : null;
      };
      await until('the manual gate at 30 %', () => atGate(first.controller));
      // The controller reports its phase to the router, which exports it (state and /metrics).
      await until('the phase at the router', () => router.readState().phase === 'paused');

      // A second controller for the same router is refused while the first holds the lease.
      await assert.rejects(attachRollout({ plan: gatedPlan(), reportRoot, driver }), (error: unknown) => error instanceof LeaseHeldError && /another controller holds the lease/.test(error.message) && error.message.includes(`pid ${process.pid}`));

      // Someone moves the router out of band: the next evaluation reports the drift and re-applies 30 %.
      router.setWeight(77);
      await until('the drift event', () => events(first.outputDir).find((e) => e.type === 'drift' && e.observed === 77 && e.intended === 30));
      await until('the weight re-applied', () => router.readState().greenWeight === 30);
      assert.equal(first.controller.readStatus().lastDrift?.observed, 77);

      // SIGTERM-style detach: state stays unfinished, traffic untouched, lease released.
      const detached = await first.controller.detach();
      await first.close();
      assert.equal(detached.weight, 30);
      assert.equal(router.readState().greenWeight, 30);
      const persisted = readStateFile(first.outputDir);
      assert.equal(persisted?.finished, false);
      assert.equal(persisted?.state.stepIndex, 0);
      assert.equal(persisted?.state.weight, 30);

      // A new controller resumes the same rollout where it was: same id, same step, same weight.
      const second = await attachRollout({ plan: gatedPlan(), reportRoot, driver });
      closers.push(() => second.close());
      assert.equal(second.resumed, true);
      assert.equal(second.rolloutId, first.rolloutId);
      assert.equal(second.outputDir, first.outputDir);
      const resumedAt = second.controller.readStatus();
      assert.equal(resumedAt.step, 0);
      assert.equal(resumedAt.weight, 30);
      assert.equal(resumedAt.phase, 'paused');
      await second.controller.start();
      const resumed = await second.controller.sendCommand('resume', 'test');
      assert.ok(resumed.accepted, resumed.message);
      const result = await Promise.race([second.controller.done, until<never>('the end of the rollout', () => null, 30_000)]);
      assert.equal(result.outcome, 'promoted', result.report.timeline.slice(-3).map((t) => t.message).join(' | '));
      assert.equal(router.readState().greenWeight, 100);
      await until('the final phase at the router', () => router.readState().phase === 'promoted');

      const log = events(first.outputDir);
      const resumedEvent = log.find((e) => e.type === 'resumed');
      assert.ok(resumedEvent, 'the log records the resume');
      assert.deepEqual(log.map((e) => e.seq), log.map((_, i) => i + 1), 'one log, sequence continued');
      const weightsAfter = log.filter((e) => e.seq > resumedEvent.seq && e.type === 'traffic').map((e) => e.weight);
      assert.ok(!weightsAfter.includes(0) && weightsAfter.includes(100), `never back to 0 after the resume: ${JSON.stringify(weightsAfter)}`);
      assert.equal(readStateFile(first.outputDir)?.finished, true);
      assert.equal(traffic.failed(), 0);
    } finally {
      for (const close of closers) await close().catch(() => undefined);
      await traffic.stop();
      await router.close();
      await Promise.all([blue.close(), green.close()]);
    }
  });
});
