import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { startBackend, type Backend } from '../helpers/backends.js';
import { startRouterProcess } from '../helpers/router-process.js';

const agent = new Agent({ connections: 16 });
const TOKEN = 'r0uter-admin-t0ken-for-tests';

async function call(url: string, init: { method?: 'GET' | 'PUT'; body?: unknown; token?: string } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const res = await request(url, { method: init.method ?? 'GET', headers, body: init.body === undefined ? null : JSON.stringify(init.body), dispatcher: agent });
  const text = await res.body.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { text };
  }
  return { status: res.statusCode, headers: res.headers, body: json };
}

/** Waits (bounded) until `check` holds. */
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('boka router serve (a real process)', () => {
  let blue: Backend;
  let green: Backend;
  let dir: string;

  before(async () => {
    blue = await startBackend('blue');
    green = await startBackend('green');
    dir = mkdtempSync(join(tmpdir(), 'boka-router-'));
  });
  after(async () => {
    await Promise.all([blue.close(), green.close()]);
    await agent.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const args = (stateFile: string) => ['--blue', blue.url, '--green', green.url, '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0', '--state-file', stateFile];

  it('starts, answers, and on SIGTERM finishes the in-flight request and exits 0', async () => {
    const router = await startRouterProcess(args(join(dir, 'sigterm.json')));
    try {
      const ok = await call(`${router.trafficUrl}/x`);
      assert.equal(ok.status, 200);
      assert.equal(ok.body.color, 'blue');
      const heldBefore = blue.held;
      const inflight = call(`${router.trafficUrl}/hold`);
      await until('the held request to reach blue', () => blue.held > heldBefore);
      router.child.kill('SIGTERM');
      await until('the router to log that it is stopping', () => router.output().includes('stopping'));
      // Stopped accepting: a new connection is refused while the held request is still open.
      await assert.rejects(request(`${router.trafficUrl}/x`, { reset: true }));
      blue.release();
      const finished = await inflight;
      assert.equal(finished.status, 200);
      assert.equal(finished.body.held, true);
      assert.equal(await router.exited, 0);
    } finally {
      await router.stop('SIGKILL');
    }
  });

  it('keeps the weight and its version across a restart (state file written by temp + rename)', async () => {
    const stateFile = join(dir, 'restart.json');
    const first = await startRouterProcess(args(stateFile), { BOKA_ROUTER_ADMIN_TOKEN: TOKEN });
    let version: unknown;
    try {
      const put = await call(`${first.adminUrl}/_router/admin/weight`, { method: 'PUT', body: { greenWeight: 40 }, token: TOKEN });
      assert.equal(put.status, 200);
      version = put.body.version;
      const phase = await call(`${first.adminUrl}/_router/admin/phase`, { method: 'PUT', body: { phase: 'progressing' }, token: TOKEN });
      assert.equal(phase.status, 200);
      assert.equal(JSON.parse(readFileSync(stateFile, 'utf8')).greenWeight, 40);
      assert.match(first.output(), /"greenWeight":40,"version":1,"phase":null,"msg":"weight set"/);
    } finally {
      assert.equal(await first.stop(), 0);
    }
    const second = await startRouterProcess(args(stateFile), { BOKA_ROUTER_ADMIN_TOKEN: TOKEN });
    try {
      const state = await call(`${second.adminUrl}/_router/state`, { token: TOKEN });
      assert.equal(state.body.greenWeight, 40);
      assert.equal(state.body.version, version);
      assert.equal(state.body.phase, 'progressing');
    } finally {
      await second.stop();
    }
  });

  it('refuses to start on a corrupt state file instead of guessing a weight', async () => {
    const stateFile = join(dir, 'corrupt.json');
    writeFileSync(stateFile, '{"greenWeight": 70, "vers');
    await assert.rejects(startRouterProcess(args(stateFile)), /exited \(2\)[\s\S]*state file/);
  });

  it('reads the admin token from BOKA_ROUTER_ADMIN_TOKEN_FILE and requires it, loopback included', async () => {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    const router = await startRouterProcess(args(join(dir, 'token.json')), { BOKA_ROUTER_ADMIN_TOKEN_FILE: tokenFile });
    try {
      assert.equal((await call(`${router.adminUrl}/_router/state`)).status, 403);
      assert.equal((await call(`${router.adminUrl}/_router/state`, { token: TOKEN })).status, 200);
      assert.ok(!router.output().includes(TOKEN), 'the token never appears in the log');
    } finally {
      await router.stop();
    }
  });

  it('keeps serving at the weight it was given when the process that set it is killed', async () => {
    const router = await startRouterProcess(args(join(dir, 'controller-kill.json')));
    try {
      // A stand-in controller in its own process: sets green to 100 % and stays alive until killed.
      const script = `
        const res = await fetch(${JSON.stringify(`${router.adminUrl}/_router/admin/weight`)}, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ greenWeight: 100 }) });
        console.log('set', res.status);
        setInterval(() => {}, 1000);`;
      const controller = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let said = '';
      controller.stdout.on('data', (c: Buffer) => (said += c.toString('utf8')));
      await until('the controller to set the weight', () => said.includes('set 200'));
      const gone = new Promise((r) => controller.once('exit', r));
      controller.kill('SIGKILL');
      await gone;
      const results = await Promise.all(Array.from({ length: 50 }, () => call(`${router.trafficUrl}/x`)));
      assert.deepEqual(new Set(results.map((r) => `${r.status} ${String(r.body.color)}`)), new Set(['200 green']));
    } finally {
      await router.stop();
    }
  });

  it('rejects unknown options and missing colors with exit 2', async () => {
    await assert.rejects(startRouterProcess(['--blue', blue.url]), /exited \(2\)[\s\S]*--green needs at least one URL/);
    await assert.rejects(startRouterProcess(['--blue', blue.url, '--green', green.url, '--bogus']), /exited \(2\)[\s\S]*unknown option --bogus/);
  });
});
