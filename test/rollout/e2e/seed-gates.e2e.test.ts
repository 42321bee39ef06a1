/**
 * Issue 13, end to end with real Boka processes (same environment as rollout.e2e.test.ts):
 * - the success criteria are a gate for promotion, not a line in the report: a green that no
 *   rollback rule catches (3 % errors against a 20 % rule) but that misses the criteria
 *   (error rate < 0.1 %) is not promoted;
 * - a rollback onto a dead blue is refused: the router ejects blue, tells the controller at its
 *   next evaluation, the rollback command pauses with `blue_unhealthy` and green keeps serving;
 *   `force` overrides, and the rollback's verification reports blue's failure.
 *
 * Nothing here asserts a duration; waits are bounded conditions.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startRolloutEnvironment, type RolloutEnvironment } from '../../../src/rollout/demo/environment.js';
import { startTraffic } from '../../../src/rollout/demo/traffic.js';
import type { RolloutStatus } from '../../../src/rollout/controller.service.js';
import { finished, plan, readEvents } from './helpers.js';

async function until<T>(what: string, probe: () => T | null | undefined, limitMs = 120_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = probe();
    if (value !== null && value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** A plan that stays at 25 % long enough for a color to die mid-step; one rule that will not fire. */
const ONE_LONG_STEP = `
interval: 1s
window: 3s
minSamples: 10
metrics: { scrapePath: false }
successCriteria: []
steps:
  - { weight: 25, duration: 600s, progressDeadline: 1200s }
  - { weight: 100 }
rules:
  - { name: error-rate, metric: error_rate, op: ">", threshold: 50%, action: rollback }
bake: { duration: 3s, interval: 1s }
`;

/** Blue, green (behind the fault proxy) and their database for one describe block. */
function useEnvironment(prefix: string): { env: RolloutEnvironment; reportRoot: string } {
  const ctx = {} as { env: RolloutEnvironment; reportRoot: string };
  before(async () => {
    ctx.reportRoot = mkdtempSync(join(tmpdir(), prefix));
    ctx.env = await startRolloutEnvironment();
  });
  after(async () => {
    await ctx.env?.close();
    if (ctx.reportRoot) rmSync(ctx.reportRoot, { recursive: true, force: true });
  });
  return ctx;
}

describe('rollout seed gates end to end (real Boka processes)', { timeout: 300_000 }, () => {
  const ctx = useEnvironment('boka-seed-gates-');

  it('success criteria gate promotion: 3 % errors pass a 20 % rollback rule but miss "error rate < 0.1 %", so no promotion', async () => {
    let armed = false;
    const rollout = await ctx.env.startRollout(
      plan(`
interval: 1s
window: 3s
minSamples: 10
metrics: { scrapePath: false }
successCriteria: [{ metric: error_rate, op: "<", threshold: 0.1% }]
steps:
  - { weight: 50, duration: 3s, progressDeadline: 60s }
  - { weight: 100 }
rules:
  - { name: error-rate, metric: error_rate, op: ">", threshold: 20%, action: rollback }
bake: { duration: 10s, interval: 1s }
`),
      {
        reportRoot: ctx.reportRoot,
        onChange(status: RolloutStatus) {
          if (!armed && status.weight > 0) {
            armed = true;
            ctx.env.greenProxy.arm({ errorRate: 0.03 });
          }
        },
      },
    );
    const traffic = startTraffic({ url: rollout.routerUrl, users: 16, rps: 100, loginEvery: 8 });
    try {
      await traffic.ready;
      await rollout.controller.start();
      const status = await until('the rollout to stop at the gate (or finish)', () => {
        const s = rollout.controller.readStatus();
        return s.outcome !== null || (s.phase === 'paused' && s.pauseReason === 'success_criteria') ? s : null;
      }, 120_000);
      assert.equal(status.outcome, null, `must not finish: ${status.lastDecision?.kind}: ${status.lastDecision?.message}`);
      assert.equal(status.pauseReason, 'success_criteria');
      assert.equal(status.weight, 100, 'the gate comes after the bake at 100 %');
      assert.match(status.lastDecision?.message ?? '', /success criteria not met/);
      assert.ok(traffic.stats.injected > 0, 'the fault was hit');
      const { decisions } = readEvents(rollout.outputDir);
      assert.ok(!decisions.some((d) => d.kind === 'promote' || d.kind === 'complete'), 'never promoted');
    } finally {
      await traffic.stop();
      ctx.env.greenProxy.disarm();
      await rollout.controller.stop();
      await rollout.close();
    }
  });

  it('a rollback onto a dead blue is refused (green keeps serving), and force overrides', async () => {
    const rollout = await ctx.env.startRollout(
      plan(ONE_LONG_STEP),
      { reportRoot: ctx.reportRoot },
    );
    const traffic = startTraffic({ url: rollout.routerUrl, users: 16, rps: 100, loginEvery: 8 });
    try {
      await traffic.ready;
      await rollout.controller.start();
      await until('green to take 25 %', () => rollout.controller.readStatus().weight === 25 && rollout.controller.readStatus().phase === 'progressing');
      ctx.env.blue.child.kill('SIGKILL');
      // The router ejects blue within its readiness interval; the controller hears of it at its
      // next evaluation (the step-entry deep probe saw a healthy blue and is not repeated).
      await until('the controller to learn blue is dead', () => readEvents(rollout.outputDir).decisions.find((d) => /blue unhealthy at the router/.test(d.message)));

      const refused = await rollout.controller.sendCommand('rollback', 'e2e');
      assert.match(refused.message, /rollback refused/);
      const paused = rollout.controller.readStatus();
      assert.equal(paused.phase, 'paused');
      assert.equal(paused.pauseReason, 'blue_unhealthy');
      assert.equal(rollout.router.readState().greenWeight, 25, 'traffic was not moved onto the dead blue');

      // Green serves everyone meanwhile: the ejected blue's share goes to green.
      const before = { total: traffic.stats.total, failed: traffic.stats.failed };
      await until('50 more requests', () => traffic.stats.total >= before.total + 50);
      assert.equal(traffic.stats.failed - before.failed, 0, JSON.stringify(traffic.stats.failures.slice(-5)));

      await rollout.controller.sendCommand('rollback', 'e2e', { force: true });
      const result = await finished(rollout, 60_000);
      assert.equal(result.outcome, 'rolled_back');
      const verified = readEvents(rollout.outputDir).decisions.find((d) => d.kind === 'rollback_verified');
      assert.match(verified?.message ?? '', /blue deep health FAILED/, 'the verification reports the dead blue');
    } finally {
      await traffic.stop();
      await rollout.controller.stop();
      await rollout.close();
    }
  });
});

describe('a dead green, ejected by the router, is rolled back on its deep probe (real Boka processes)', { timeout: 300_000 }, () => {
  const ctx = useEnvironment('boka-green-ejected-');

  it('green killed mid-step: ejected, probed at once, rolled back (not held until the progress deadline)', async () => {
    const rollout = await ctx.env.startRollout(
      plan(ONE_LONG_STEP),
      { reportRoot: ctx.reportRoot },
    );
    const traffic = startTraffic({ url: rollout.routerUrl, users: 16, rps: 100, loginEvery: 8 });
    try {
      await traffic.ready;
      await rollout.controller.start();
      await until('green to take 25 %', () => rollout.controller.readStatus().weight === 25 && rollout.controller.readStatus().phase === 'progressing');
      ctx.env.green.child.kill('SIGKILL');
      const result = await finished(rollout, 90_000);
      assert.equal(result.outcome, 'rolled_back');
      const { decisions } = readEvents(rollout.outputDir);
      const ejected = decisions.find((d) => /green ejected at the router/.test(d.message));
      const rollback = decisions.find((d) => d.kind === 'rollback');
      assert.ok(ejected && rollback && ejected.seq < rollback.seq, 'the ejection led to the probe that rolled back');
      assert.match(rollback.message, /deep health of green failed/);
    } finally {
      await traffic.stop();
      await rollout.controller.stop();
      await rollout.close();
    }
  });
});
