import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { runCli } from '../../src/cli/run.js';
import { createFakeStore, startFakeBoka } from './helpers/fake-boka.js';

const dir = mkdtempSync(join(tmpdir(), 'boka-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('rollout CLI', () => {
  it('rejects an invalid plan with exit code 2', async () => {
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, 'steps:\n  - { weight: 10, duration: soon }\n  - { weight: 100 }\n');
    assert.equal(await runCli(['rollout', 'plan', '--plan', path]), 2);
    assert.equal(await runCli(['rollout', 'start', '--blue', 'http://127.0.0.1:1', '--green', 'http://127.0.0.1:2', '--plan', path]), 2);
  });

  it('needs both colors', async () => {
    assert.equal(await runCli(['rollout', 'start', '--blue', 'http://127.0.0.1:1']), 2);
  });

  it('boka smoke exits 0 on a healthy Boka and 1 on a broken one', async () => {
    const good = await startFakeBoka('green', createFakeStore());
    const bad = await startFakeBoka('green', createFakeStore(), { logoutRevokes: false });
    try {
      assert.equal(await runCli(['smoke', good.url]), 0);
      assert.equal(await runCli(['smoke', bad.url]), 1);
      assert.equal(await runCli(['smoke']), 2);
    } finally {
      await Promise.all([good.close(), bad.close()]);
    }
  });

  // The step waits up to 2 min for enough traffic to judge (its default deadline, 3 × 300 ms,
  // paused the rollout for an operator on a loaded machine and the test waited forever); the
  // test itself fails instead of hanging.
  it('start drives a whole rollout and exits 0 when promoted; status answers while it runs', { timeout: 300_000 }, async () => {
    const store = createFakeStore();
    const blue = await startFakeBoka('blue', store);
    const green = await startFakeBoka('green', store);
    const port = await freePort();
    const adminPort = await freePort();
    const controlPort = await freePort();
    const plan = join(dir, 'fast.yaml');
    // No p95 success criterion (the default's 150 ms would judge this machine's speed, and a slow
    // moment would hold the promotion for an operator instead of ending the test).
    writeFileSync(plan, 'interval: 100ms\nwindow: 2s\nminSamples: 5\nsuccessCriteria: [{ metric: error_rate, op: "<", threshold: 0.1% }]\nsteps: [{ weight: 50, duration: 300ms, progressDeadline: 2m }, { weight: 100 }]\nbake: { duration: 200ms, interval: 100ms }\n');
    const agent = new Agent();
    let stop = false;
    let statusCode = 0;
    const traffic = (async () => {
      await new Promise((r) => setTimeout(r, 50));
      while (!stop) {
        try {
          const res = await request(`http://127.0.0.1:${port}/api/bookings`, { dispatcher: agent });
          await res.body.dump();
          // The router takes traffic before the control API listens (the controller is wired
          // between the two), so the first calls may find nothing there yet: ask until it answers.
          if (statusCode !== 200) {
            const s = await runCli(['rollout', 'status', '--controller', `http://127.0.0.1:${controlPort}`]);
            if (s === 0) statusCode = 200;
          }
        } catch {
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    })();
    try {
      const code = await runCli(['rollout', 'start', '--blue', blue.url, '--green', green.url, '--listen', `127.0.0.1:${port}`, '--admin-listen', `127.0.0.1:${adminPort}`, '--control-listen', `127.0.0.1:${controlPort}`, '--plan', plan, '--report-dir', dir, '--no-view', '--exit-on-finish']);
      assert.equal(code, 0);
      assert.equal(statusCode, 200);
      const rolloutDirs = readdirSync(dir).filter((d) => !d.endsWith('.yaml') && !d.startsWith('.'));
      assert.equal(rolloutDirs.length, 1);
      assert.deepEqual(readdirSync(join(dir, rolloutDirs[0] ?? '')).sort(), ['events.jsonl', 'report.json', 'report.md', 'state.json']);
      // The lease was released at the end: nothing holds it any more.
      assert.deepEqual(readdirSync(join(dir, '.leases')).filter((f) => f.endsWith('.lock') || f.endsWith('.owner.json')), []);
    } finally {
      stop = true;
      await traffic;
      await agent.close();
      await Promise.all([blue.close(), green.close()]);
    }
  });
});
