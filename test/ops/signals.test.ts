import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { TEST_PASSWORD } from '../helpers/app.js';
import { killAll, ROOT, spawnBoka, waitForLog, type BokaProcess } from './helpers/processes.js';

/**
 * The drain must start when the operator signals whatever wraps the server: `npm start`, or
 * `node dist/main.js` itself (PID 1 in the image: scripts/container-test.sh). Real processes
 * on the compiled build, each on its own in-memory database.
 */
const env = (extra: Record<string, string> = {}) => ({ BOKA_DATA_DIR: 'memory', SHUTDOWN_TIMEOUT_MS: '10000', ...extra });

async function post(base: string, path: string, body: unknown): Promise<number> {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await res.arrayBuffer();
  return res.status;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function exitWithin(p: BokaProcess, ms: number): Promise<number | null | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), ms)));
  const result = await Promise.race([p.exited, hung]);
  clearTimeout(timer);
  return result;
}

const count = (p: BokaProcess, msg: string) => p.logs.filter((l) => l.includes(`"msg":"${msg}"`)).length;

describe('signals reach the server', () => {
  before(() => {
    const build = spawnSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
  });
  after(() => killAll());

  it('node dist/main.js: one drain; a second SIGTERM and a SIGINT during it cut no request; exit 0', async () => {
    const p = await spawnBoka(env({ SHUTDOWN_DELAY_MS: '3000' }), 60_000, { command: [process.execPath, 'dist/main.js'] });
    const email = `sig-${process.pid}@example.test`;
    assert.equal(await post(p.url, '/api/auth/signup', { email, password: TEST_PASSWORD, name: 'Sig' }), 201);
    p.kill('SIGTERM');
    await waitForLog(p, '"msg":"draining"');
    // Slow requests (argon2 password checks), accepted while the delay keeps the listener open.
    const logins = [0, 1, 2, 3].map(() => post(p.url, '/api/auth/login', { email, password: TEST_PASSWORD }));
    p.kill('SIGTERM');
    p.kill('SIGINT');
    assert.deepEqual(await Promise.all(logins), [200, 200, 200, 200], 'a request was cut by the repeated signal');
    assert.equal(await exitWithin(p, 15_000), 0, p.logs.slice(-5).join('\n'));
    assert.equal(count(p, 'draining'), 1);
    assert.equal(count(p, 'already draining; signal ignored'), 2);
    assert.equal(count(p, 'shutdown complete'), 1);
  });

  it('npm start: SIGTERM to npm drains the server, and the whole process tree exits', async () => {
    const p = await spawnBoka(env({ SHUTDOWN_DELAY_MS: '300' }), 60_000, { command: ['npm', 'start'] });
    const tree = [p.child.pid!, ...childPids(p.child.pid!)];
    for (const pid of tree.slice(1)) tree.push(...childPids(pid));
    assert.ok(tree.length >= 2, `npm has no child: ${tree.join(',')}`);
    try {
      p.kill('SIGTERM');
      assert.equal(await exitWithin(p, 15_000), 0, p.logs.slice(-5).join('\n'));
      assert.equal(count(p, 'draining'), 1, 'the server never saw the signal');
      assert.equal(count(p, 'shutdown complete'), 1);
      const deadline = Date.now() + 5_000;
      while (tree.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(tree.filter(isAlive), [], 'a process of the tree outlived npm (re-parented server)');
    } finally {
      // A re-parented server would hold the test's pipes open and hang the run.
      for (const pid of tree.filter(isAlive)) process.kill(pid, 'SIGKILL');
    }
  });

  it('a closed stdout (EPIPE) neither stops serving nor hangs the drain', async () => {
    const p = await spawnBoka(env(), 60_000, { command: [process.execPath, 'dist/main.js'] });
    p.child.stdout!.destroy();
    // Every request logs a line; each write now fails with EPIPE.
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${p.url}/api/health`);
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    }
    p.kill('SIGTERM');
    assert.equal(await exitWithin(p, 15_000), 0, p.logs.join('\n'));
  });
});
