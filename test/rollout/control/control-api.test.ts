/**
 * The controller's control API over real HTTP, in front of a real controller and built-in
 * router (fixture colours on 127.0.0.1): access, the error shape, commands and their `force`,
 * the history pages, and the requests a cross-site page could make.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { request } from 'undici';
import { runCli } from '../../../src/cli/run.js';
import type { LoggedEvent } from '../../../src/rollout/event-log.js';
import { loadPlan } from '../../../src/rollout/plan.core.js';
import { startRollout, type RunningRollout } from '../../../src/rollout/start-rollout.js';
import { createFakeStore, startFakeBoka } from '../helpers/fake-boka.js';

const reportRoot = mkdtempSync(join(tmpdir(), 'boka-control-'));
after(() => rmSync(reportRoot, { recursive: true, force: true }));

const TOKEN = 'control-token-0123456789abcdef';

/** A rollout that stays at its first step (10 minutes, no traffic), so commands meet a live controller. */
const PLAN = (() => {
  const loaded = loadPlan('interval: 100ms\nwindow: 2s\nminSamples: 5\nsteps: [{ weight: 20, duration: 10m }, { weight: 100 }]\nbake: { duration: 1s, interval: 100ms }\n');
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
  return loaded.plan;
})();

async function withRollout(token: string | undefined, body: (r: RunningRollout) => Promise<void>): Promise<void> {
  const store = createFakeStore();
  const blue = await startFakeBoka('blue', store);
  const green = await startFakeBoka('green', store);
  const rollout = await startRollout({ plan: PLAN, blue: [blue.url], green: [green.url], listenHost: '127.0.0.1', listenPort: 0, adminToken: token, reportRoot });
  try {
    await rollout.controller.start();
    await waitFor(() => rollout.controller.readStatus().phase === 'progressing', 'the rollout to reach its first step');
    await body(rollout);
  } finally {
    await rollout.controller.stop();
    await rollout.close();
    await Promise.all([blue.close(), green.close()]);
  }
}

async function waitFor(condition: () => boolean, what: string, limitMs = 15_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
  text: string;
}

async function call(url: string, init: { method?: 'GET' | 'POST' | 'PUT'; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const res = await request(url, { method: init.method ?? 'GET', headers: init.headers, body: init.body });
  const text = await res.body.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    /* not JSON: assets */
  }
  return { status: res.statusCode, headers: res.headers, body, text };
}

function postCommand(r: RunningRollout, command: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return call(`${r.controlUrl}/_rollout/commands/${command}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

/** The documented error body (docs/errors.md). */
function assertErrorShape(answer: Answer, status: number, code: string): void {
  assert.equal(answer.status, status, answer.text);
  assert.equal(answer.body.error, code);
  assert.equal(answer.body.code, code);
  assert.equal(typeof answer.body.message, 'string');
  assert.equal(typeof answer.body.requestId, 'string');
  assert.equal(typeof answer.body.timestamp, 'string');
  assert.match(String(answer.headers['content-type']), /^application\/json/);
}

const commands = (r: RunningRollout): LoggedEvent[] => r.controller.readEvents(0).filter((e) => e.type === 'command');
const bearer = { authorization: `Bearer ${TOKEN}` };

describe('rollout control API', () => {
  it('with a token configured: every API route needs it (loopback is not enough); the page shell does not', async () => {
    await withRollout(TOKEN, async (r) => {
      assertErrorShape(await call(`${r.controlUrl}/_rollout/status`), 403, 'forbidden');
      assertErrorShape(await call(`${r.controlUrl}/_rollout/status`, { headers: { authorization: 'Bearer wrong-token' } }), 403, 'forbidden');
      assertErrorShape(await call(`${r.controlUrl}/_rollout/history?after=0`), 403, 'forbidden');
      assertErrorShape(await postCommand(r, 'pause', { by: 'mallory' }), 403, 'forbidden');
      assert.equal(commands(r).length, 0, 'a refused caller must not reach the controller');
      assert.equal(r.controller.readStatus().phase, 'progressing');

      const status = await call(`${r.controlUrl}/_rollout/status`, { headers: bearer });
      assert.equal(status.status, 200);
      assert.equal(status.body.rolloutId, r.rolloutId);
      assert.equal(status.body.phase, 'progressing');
      assert.equal(status.headers['cache-control'], 'no-store');

      const page = await call(`${r.controlUrl}/ui`);
      assert.equal(page.status, 200);
      assert.match(String(page.headers['content-type']), /^text\/html/);
      assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
      assert.doesNotMatch(page.text, /<script>|<script [^>]*>[^<\s]|\sstyle=|\son[a-z]+=/i, 'no inline script, style attribute or event handler');
      for (const asset of ['/ui/dashboard.js', '/ui/dashboard.css', '/ui/uplot.js', '/ui/uplot.css']) {
        const a = await call(`${r.controlUrl}${asset}`);
        assert.equal(a.status, 200, asset);
        assert.ok(a.text.length > 100, asset);
        assert.equal(a.headers['x-content-type-options'], 'nosniff');
      }
    });
  });

  it('without a token: loopback callers only, and only under a loopback host name (DNS rebinding)', async () => {
    await withRollout(undefined, async (r) => {
      assert.equal((await call(`${r.controlUrl}/_rollout/status`)).status, 200);
      assert.equal((await call(`${r.controlUrl}/ui`)).status, 200);
      assert.equal((await call(`${r.controlUrl}/_rollout/status`, { headers: { host: `localhost:${new URL(r.controlUrl).port}` } })).status, 200);
      assertErrorShape(await call(`${r.controlUrl}/_rollout/status`, { headers: { host: 'rebound.attacker.example' } }), 403, 'forbidden');
      assertErrorShape(await call(`${r.controlUrl}/ui`, { headers: { host: 'rebound.attacker.example:8082' } }), 403, 'forbidden');
      assertErrorShape(await postCommand(r, 'pause', { by: 'x' }, { host: 'rebound.attacker.example' }), 403, 'forbidden');
      assert.equal(commands(r).length, 0);
    });
  });

  it('refuses what a cross-site page could send: forms and simple requests (not JSON), foreign origins', async () => {
    await withRollout(undefined, async (r) => {
      const url = `${r.controlUrl}/_rollout/commands/abort`;
      assertErrorShape(await call(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'by=evil' }), 400, 'invalid_request');
      assertErrorShape(await call(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"by":"evil"}' }), 400, 'invalid_request');
      assertErrorShape(await call(url, { method: 'POST', body: '{"by":"evil"}' }), 400, 'invalid_request');
      assertErrorShape(await postCommand(r, 'abort', { by: 'evil' }, { origin: 'https://attacker.example' }), 403, 'forbidden');
      assertErrorShape(await postCommand(r, 'abort', { by: 'evil' }, { origin: 'null' }), 403, 'forbidden');
      assertErrorShape(await postCommand(r, 'abort', { by: 'evil' }, { 'sec-fetch-site': 'cross-site' }), 403, 'forbidden');
      assert.equal(commands(r).length, 0);
      assert.equal(r.controller.readStatus().phase, 'progressing');
      // The page's own origin is fine.
      const same = await postCommand(r, 'pause', { by: 'page' }, { origin: r.controlUrl, 'sec-fetch-site': 'same-origin' });
      assert.equal(same.status, 200, same.text);
      assert.equal(r.controller.readStatus().phase, 'paused');
    });
  });

  it('an unknown command or route is 404, a wrong method 405, a bad body 400/413, all in the error shape', async () => {
    await withRollout(TOKEN, async (r) => {
      const unknown = await postCommand(r, 'explode', { by: 'ops' }, bearer);
      assertErrorShape(unknown, 404, 'not_found');
      assert.match(String(unknown.body.message), /pause, resume, promote, abort, rollback/);
      assertErrorShape(await postCommand(r, '%E0%A4%A', { by: 'ops' }, bearer), 400, 'invalid_request');
      assertErrorShape(await call(`${r.controlUrl}/_rollout/nothing`, { headers: bearer }), 404, 'not_found');
      assertErrorShape(await call(`${r.controlUrl}/_rollout/commands/pause`, { headers: bearer }), 405, 'method_not_allowed');
      assertErrorShape(await call(`${r.controlUrl}/_rollout/status`, { method: 'POST', headers: bearer }), 405, 'method_not_allowed');
      const invalid = await postCommand(r, 'pause', { by: 7, force: 'yes', extra: 1 }, bearer);
      assertErrorShape(invalid, 400, 'validation_error');
      assert.deepEqual((invalid.body.details as { field: string }[]).map((d) => d.field).sort(), ['by', 'extra', 'force']);
      assertErrorShape(await call(`${r.controlUrl}/_rollout/commands/pause`, { method: 'POST', headers: { ...bearer, 'content-type': 'application/json' }, body: '{"by":' }), 400, 'invalid_request');
      assertErrorShape(await call(`${r.controlUrl}/_rollout/commands/pause`, { method: 'POST', headers: { ...bearer, 'content-type': 'application/json' }, body: '[1]' }), 400, 'validation_error');
      assertErrorShape(await postCommand(r, 'pause', { by: 'x'.repeat(5_000) }, bearer), 413, 'payload_too_large');
      assertErrorShape(await call(`${r.controlUrl}/_rollout/history?after=-1`, { headers: bearer }), 400, 'validation_error');
      assertErrorShape(await call(`${r.controlUrl}/_rollout/history?after=1e3`, { headers: bearer }), 400, 'validation_error');
      assertErrorShape(await call(`${r.controlUrl}/_rollout/history?limit=99999`, { headers: bearer }), 400, 'validation_error');
      assert.equal(commands(r).length, 0);
    });
  });

  it('a command the phase refuses is 409 conflict; `force` reaches the controller only when sent', async () => {
    await withRollout(TOKEN, async (r) => {
      const refused = await postCommand(r, 'resume', { by: 'ops' }, bearer);
      assertErrorShape(refused, 409, 'conflict');
      assert.equal((refused.body.details as { phase: string }).phase, 'progressing');

      const paused = await postCommand(r, 'pause', { by: 'alice' }, bearer);
      assert.equal(paused.status, 200, paused.text);
      assert.equal(paused.body.accepted, true);
      assert.equal((paused.body.status as { phase: string }).phase, 'paused');

      const rolledBack = await postCommand(r, 'rollback', { by: 'bob', force: true }, bearer);
      assert.equal(rolledBack.status, 200, rolledBack.text);
      await waitFor(() => r.controller.readStatus().outcome === 'rolled_back', 'the rollback to be verified');

      const logged = commands(r).map((e) => ({ command: e.command, by: e.by, force: e.force }));
      assert.deepEqual(logged, [
        { command: 'resume', by: 'ops', force: undefined },
        { command: 'pause', by: 'alice', force: undefined },
        { command: 'rollback', by: 'bob', force: true },
      ]);
    });
  });

  it('history pages through the event log by seq, with the decision log', async () => {
    await withRollout(TOKEN, async (r) => {
      assert.equal((await postCommand(r, 'pause', { by: 'carol' }, bearer)).status, 200);
      const all = await call(`${r.controlUrl}/_rollout/history?after=0`, { headers: bearer });
      assert.equal(all.status, 200);
      assert.equal(all.body.rolloutId, r.rolloutId);
      assert.equal(all.body.more, false);
      const lastSeq = all.body.lastSeq as number;
      assert.equal(lastSeq, r.controller.readEvents(0).at(-1)?.seq);
      const log = all.body.log as { kind: string; message: string }[];
      assert.ok(log.some((e) => e.kind === 'command' && e.message === 'pause by carol'), JSON.stringify(log));
      assert.ok(log.some((e) => e.kind === 'pause'), 'the core decision of the pause');

      const first = await call(`${r.controlUrl}/_rollout/history?after=0&limit=1`, { headers: bearer });
      assert.equal(first.body.lastSeq, 1);
      assert.equal(first.body.more, true);
      const rest = await call(`${r.controlUrl}/_rollout/history?after=${lastSeq}`, { headers: bearer });
      assert.equal(rest.body.lastSeq, lastSeq);
      assert.deepEqual(rest.body.log, []);
    });
  });

  it('boka rollout status|pause|rollback --controller --token-file --force use the same API', async () => {
    await withRollout(TOKEN, async (r) => {
      const tokenFile = join(reportRoot, 'token');
      writeFileSync(tokenFile, `${TOKEN}\n`);
      assert.equal(await runCli(['rollout', 'pause', '--controller', r.controlUrl, '--by', 'dave']), 1, 'no token: refused');
      assert.equal(await runCli(['rollout', 'pause', '--by', 'dave']), 2, 'no --controller');
      assert.equal(await runCli(['rollout', 'status', '--controller', r.controlUrl, '--token-file', tokenFile]), 0);
      assert.equal(await runCli(['rollout', 'resume', '--controller', r.controlUrl, '--token', TOKEN]), 1, 'refused in this phase');
      assert.equal(await runCli(['rollout', 'pause', '--controller', r.controlUrl, '--token-file', tokenFile, '--by', 'dave']), 0);
      assert.equal(r.controller.readStatus().phase, 'paused');
      assert.equal(await runCli(['rollout', 'rollback', '--controller', r.controlUrl, '--token-file', tokenFile, '--by', 'dave', '--force']), 0);
      await waitFor(() => r.controller.readStatus().outcome === 'rolled_back', 'the rollback to be verified');
      assert.deepEqual(commands(r).map((e) => [e.command, e.by, e.force]), [
        ['resume', process.env.USER ?? 'operator', undefined],
        ['pause', 'dave', undefined],
        ['rollback', 'dave', true],
      ]);
    });
  });
});
