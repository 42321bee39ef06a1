/**
 * The controller as a separate, resumable client of `boka router serve`, with real processes:
 * two Boka instances on one database, the router process, signed-in load through it, and the
 * controller run as an operator would (`node bin/boka.mjs rollout start --router …`).
 *
 * Nothing here asserts a duration: outcomes, the router's weight read back, the controller's
 * own events (events.jsonl, state.json) and the client's count of failed requests.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { request } from 'undici';
import { startRolloutEnvironment, type RolloutEnvironment } from '../../../src/rollout/demo/environment.js';
import { startTraffic, type Traffic } from '../../../src/rollout/demo/traffic.js';
import { readStateFile, STATE_FILE } from '../../../src/rollout/state/state-file.js';
import { attachRollout } from '../../../src/rollout/start-rollout.js';
import { startRouterProcess, type RouterProcess } from '../helpers/router-process.js';
import { plan } from './helpers.js';

const BIN = fileURLToPath(new URL('../../../bin/boka.mjs', import.meta.url));

const PLAN = `
interval: 500ms
window: 3s
minSamples: 10
preflight: { smoke: false, timeout: 20s }
steps:
  - { weight: 25, duration: 2s, progressDeadline: 60s }
  - { weight: 50, duration: 30s }
  - { weight: 100 }
rules:
  - { name: error-rate, metric: error_rate, op: ">", threshold: 5%, action: rollback }
bake: { duration: 2s, interval: 1s }
successCriteria: []
`;

interface ControllerProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | string>;
}

function startController(args: readonly string[], env: NodeJS.ProcessEnv = process.env): ControllerProcess {
  const child = spawn(process.execPath, [BIN, 'rollout', 'start', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  return { child, output: () => out, exited };
}

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false> | T | null | undefined | false, limitMs = 120_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function withLimit<T>(what: string, promise: Promise<T>, limitMs: number): Promise<T> {
  return Promise.race([promise, until<never>(what, () => null, limitMs)]);
}

async function routerWeight(adminUrl: string): Promise<number> {
  const res = await request(`${adminUrl}/_router/state`);
  return ((await res.body.json()) as { greenWeight: number }).greenWeight;
}

function rolloutDirs(root: string): string[] {
  return readdirSync(root, { withFileTypes: true }).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name);
}

function events(dir: string): { seq: number; type: string; [k: string]: unknown }[] {
  return readFileSync(join(dir, 'events.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { seq: number; type: string });
}

/** Child processes of `pid` (Linux `ps`), to prove nothing outlives its parent. */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n').map((l) => Number(l.trim())).filter((n) => n > 0);
  } catch {
    return [];
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('controller kill -9 → router keeps serving → restart resumes (real processes)', { timeout: 300_000 }, () => {
  let env: RolloutEnvironment;
  let router: RouterProcess;
  let traffic: Traffic;
  let root: string;
  const spawned: ControllerProcess[] = [];
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'boka-controller-e2e-'));
    writeFileSync(join(root, 'plan.yaml'), PLAN);
    env = await startRolloutEnvironment();
    router = await startRouterProcess(['--blue', env.blue.url, '--green', env.greenProxy.url, '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--state-file', join(root, 'router-state.json')]);
    traffic = startTraffic({ url: router.trafficUrl, users: 8, rps: 60, loginEvery: 8 });
    await traffic.ready;
  });
  after(async () => {
    for (const c of spawned) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
    await traffic?.stop();
    await router?.stop();
    await env?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const args = () => ['--router', router.adminUrl, '--plan', join(root, 'plan.yaml'), '--report-dir', root, '--no-view'];

  it('(1) kill -9 at 50 %: 0 failed requests, the restarted controller resumes at 50 % (not 0), refuses a second one, and promotes', async (t) => {
    const first = startController(args());
    spawned.push(first);
    await until('the first controller at 50 %', async () => {
      const dir = rolloutDirs(root)[0];
      const state = dir ? readStateFile(join(root, dir)) : null;
      return state?.state.weight === 50 && state.state.weightConfirmed && (await routerWeight(router.adminUrl)) === 50;
    });
    // The controller and its tsx child, killed without a chance to clean up.
    for (const pid of childrenOf(first.child.pid ?? 0)) process.kill(pid, 'SIGKILL');
    first.child.kill('SIGKILL');
    await withLimit('the first controller to die', first.exited, 10_000);
    const dir = join(root, rolloutDirs(root)[0] ?? '');
    const before = readStateFile(dir);
    assert.equal(before?.finished, false);
    const failedAtKill = traffic.stats.failed;

    // Nobody drives the router now; it keeps serving at 50 %.
    const servedBefore = traffic.stats.total;
    await until('traffic served while no controller runs', () => traffic.stats.total > servedBefore + 50);
    assert.equal(await routerWeight(router.adminUrl), 50);

    // The restart finds the unfinished rollout for this router and continues it.
    let minWeight = 100;
    let watching = true;
    const watch = (async () => {
      while (watching) {
        minWeight = Math.min(minWeight, await routerWeight(router.adminUrl));
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const second = startController(args());
    spawned.push(second);
    let code: number | string;
    let thirdCode: number | string;
    let third: ControllerProcess;
    try {
      await until('the restarted controller to resume', () => /resuming rollout/.test(second.output()) || null, 60_000);
      // A second controller for the same router is refused while the restarted one runs.
      third = startController(args());
      spawned.push(third);
      thirdCode = await withLimit('the refused controller to exit', third.exited, 60_000);
      code = await withLimit('the restarted controller to finish', second.exited, 120_000);
    } finally {
      watching = false;
      await watch;
    }
    assert.equal(thirdCode, 3, third.output());
    assert.match(third.output(), /refused: another controller holds the lease for router http:\/\/127\.0\.0\.1:\d+ \(pid \d+/);
    assert.equal(code, 0, second.output());
    assert.match(second.output(), /outcome: promoted/);
    assert.equal(await routerWeight(router.adminUrl), 100);
    assert.ok(minWeight >= 50, `the router went down to ${minWeight} % after the restart`);

    const log = events(dir);
    const resumed = log.find((e) => e.type === 'resumed');
    assert.equal(resumed?.weight, 50);
    assert.equal(resumed?.step, before?.state.stepIndex);
    assert.ok(!log.some((e) => e.seq > (resumed?.seq ?? 0) && e.type === 'traffic' && e.weight === 0), 'never set back to 0 after the resume');
    assert.equal(readStateFile(dir)?.finished, true);
    assert.equal(rolloutDirs(root).length, 1, 'one rollout, not a new one');
    t.diagnostic(`measured: ${traffic.stats.total} requests through the router, ${traffic.stats.failed} failed (${failedAtKill} before the kill)`);
    assert.equal(traffic.stats.failed, 0, JSON.stringify(traffic.stats.failures.slice(0, 5)));
  });

  it('(2) SIGTERM to `node bin/boka.mjs rollout start` reaches the controller: it detaches, leaves the router as it is, and leaves no orphan', async () => {
    const weightBefore = await routerWeight(router.adminUrl);
    // From the sources even when dist/ is current (an earlier test may have built it): the tsx
    // child is what the signal must be forwarded to.
    const controller = startController([...args(), '--no-resume'], { ...process.env, BOKA_FROM_SOURCES: '1' });
    spawned.push(controller);
    await until('the controller to start', () => /starting rollout/.test(controller.output()) || null);
    const children = childrenOf(controller.child.pid ?? 0);
    assert.ok(children.length > 0, 'bin/boka.mjs runs the sources in a tsx child');
    controller.child.kill('SIGTERM');
    const code = await withLimit('the controller to exit on SIGTERM', controller.exited, 30_000);
    assert.equal(code, 0, controller.output());
    assert.match(controller.output(), /detaching: evaluation stops, traffic is left as it is/);
    await until('no orphan left', () => children.every((pid) => !isAlive(pid)) || null, 10_000);
    const dir = rolloutDirs(root).map((d) => join(root, d)).find((d) => events(d).some((e) => e.type === 'detached'));
    assert.ok(dir, 'the detached rollout recorded it');
    assert.equal(readStateFile(dir)?.finished, false, 'resumable');
    assert.ok(readdirSync(dir).includes(STATE_FILE));
    // Whatever it had applied stays; nothing was rolled back on the way out.
    const after = await routerWeight(router.adminUrl);
    assert.ok(after === weightBefore || after === readStateFile(dir)?.state.weight, `router at ${after} %`);
  });

  it('(3) green\'s metrics answering 404: analysis errors with the cause, pause, never promote', async () => {
    const p = plan(`${PLAN.replace('steps:\n  - { weight: 25, duration: 2s }\n  - { weight: 50, duration: 30s }', 'steps:\n  - { weight: 25, duration: 2s }')}
metrics: { scrapePath: /metrics-not-here }
analysis: { consecutiveErrorLimit: 2 }
`);
    const rollout = await attachRollout({ plan: p, reportRoot: root, driver: { kind: 'router', adminUrl: router.adminUrl }, resume: false });
    try {
      await rollout.controller.start();
      const paused = await until('the analysis-error pause', () => {
        const s = rollout.controller.readStatus();
        return s.phase === 'paused' && s.pauseReason === 'analysis_error' ? s : null;
      });
      assert.match(paused.lastDecision?.message ?? '', /scrape green http:\/\/127\.0\.0\.1:\d+\/metrics-not-here: HTTP 404/);
      const log = events(rollout.outputDir);
      assert.ok(log.some((e) => e.type === 'metrics_error'), 'the failure is logged with its cause');
      assert.ok(!log.some((e) => e.type === 'decision' && (e.kind === 'complete' || e.kind === 'promote' || e.kind === 'bake_started')));
      assert.ok((await routerWeight(router.adminUrl)) < 100);
    } finally {
      await rollout.controller.stop();
      await rollout.close();
    }
  });
});
