/**
 * The dashboard in a real headless Chromium (Debian `chromium` + playwright-core): a live
 * rollout with traffic through the built-in router, the page opened with the token in its
 * fragment, the charts must gain points as evaluations come in, and the Pause button must
 * pause the rollout (seen through the control API). A screenshot is kept under
 * test-artifacts/ (gitignored). Without Chromium the test is skipped, except under CI=true.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { chromium, type BrowserContext } from 'playwright-core';
import { Agent, request } from 'undici';
import { loadPlan } from '../../../src/rollout/plan.core.js';
import { startRollout } from '../../../src/rollout/start-rollout.js';
import { createFakeStore, startFakeBoka } from '../helpers/fake-boka.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const TOKEN = 'dashboard-token-0123456789abcdef';
const WAIT_MS = 30_000;

const missing = existsSync(CHROMIUM) ? null : `Chromium not found at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`;
if (missing && process.env.CI === 'true') throw new Error(`${missing}: the dashboard browser test cannot be skipped under CI=true`);

const scratch = mkdtempSync(join(tmpdir(), 'boka-dashboard-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Signed-out GETs through the router from a few concurrent loops until stopped (a fixture). */
function driveTraffic(url: string) {
  const agent = new Agent({ connections: 4 });
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          const res = await request(`${url}/api/bookings`, { dispatcher: agent });
          await res.body.dump();
        }),
      );
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return {
    async stop() {
      stop = true;
      await loop;
      await agent.close();
    },
  };
}

/** Polls `check` (page reads through locators: the page's CSP forbids evaluating strings) until true, for at most WAIT_MS. */
async function waitUntil(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function readPhase(controlUrl: string): Promise<string> {
  const res = await request(`${controlUrl}/_rollout/status`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return ((await res.body.json()) as { phase: string }).phase;
}

describe('rollout dashboard in headless Chromium', () => {
  it('shows a live rollout, its charts grow, and Pause pauses it', { skip: missing ?? false, timeout: 120_000 }, async () => {
    const loaded = loadPlan(`
interval: 200ms
window: 2s
minSamples: 5
steps: [{ weight: 40, duration: 10m }, { weight: 100 }]
rules:
  - { name: error-rate, metric: error_rate, op: ">", threshold: 1%, action: rollback, compareWithBlue: { margin: 0.5% } }
  - { name: p95, metric: p95_latency_ms, op: ">", threshold: 500ms, for: 2s, action: rollback }
bake: { duration: 1s, interval: 200ms }
`);
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
    const store = createFakeStore();
    const blue = await startFakeBoka('blue', store);
    const green = await startFakeBoka('green', store);
    const rollout = await startRollout({ plan: loaded.plan, blue: [blue.url], green: [green.url], listenHost: '127.0.0.1', listenPort: 0, adminToken: TOKEN, reportRoot: join(scratch, 'rollouts') });
    const traffic = driveTraffic(rollout.routerUrl);
    let context: BrowserContext | undefined;
    try {
      await rollout.controller.start();
      context = await chromium.launchPersistentContext(join(scratch, 'profile'), { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 1100 } });
      const page = context.pages()[0] ?? (await context.newPage());
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`console: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));

      await page.goto(`${rollout.controlUrl}/ui#token=${TOKEN}`);
      assert.ok(!page.url().includes(TOKEN), 'the page removes the token from its URL');
      await waitUntil(async () => (await page.textContent('#phase')) === 'progressing', 'the page to show the phase');
      assert.equal(await page.textContent('#rollout-id'), rollout.rolloutId);
      assert.equal(await page.textContent('#weight'), '40 %');

      // The charts hold as many points as evaluations came in, and keep gaining them.
      const points = () => page.getAttribute('#chart-rate', 'data-points').then(Number);
      await waitUntil(async () => (await points()) >= 2, 'the first plotted points');
      const before = await points();
      await waitUntil(async () => (await points()) >= before + 3, 'the charts to gain points');
      assert.ok((await points()) >= before + 3);
      for (const chart of ['#chart-errors', '#chart-p95']) assert.ok(Number(await page.getAttribute(chart, 'data-points')) >= before + 3, chart);
      assert.ok((await page.locator('.chart canvas').count()) >= 3, 'uPlot drew three canvases');

      // Each rule of the plan, with what the core reported about it.
      const rows = page.locator('#rules tbody tr');
      await waitUntil(async () => (await rows.count()) === 2, 'the rules table');
      assert.deepEqual([await rows.nth(0).getAttribute('data-rule'), await rows.nth(1).getAttribute('data-rule')], ['error-rate', 'p95']);
      assert.match((await rows.nth(0).textContent()) ?? '', /ok|pending|breached|excused|no_data|insufficient|error/);

      await page.click('button[data-command="pause"]');
      await waitUntil(async () => (await readPhase(rollout.controlUrl)) === 'paused', 'the control API to report paused after the button press');
      await waitUntil(async () => (await page.textContent('#phase')) === 'paused', 'the page to show paused');
      await waitUntil(async () => (await page.locator('#log tbody tr[data-kind="pause"]').count()) === 1, 'the pause in the decision log');
      const command = rollout.controller.readEvents(0).find((e) => e.type === 'command');
      assert.deepEqual([command?.command, command?.by], ['pause', 'dashboard']);

      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'rollout-dashboard.png'), fullPage: true });
      assert.deepEqual(problems, [], 'no script error and no CSP violation in the page');
    } finally {
      await context?.close();
      await traffic.stop();
      await rollout.controller.stop();
      await rollout.close();
      await Promise.all([blue.close(), green.close()]);
    }
  });
});
