/**
 * Migrations before traffic and the post-rollback verification (ADR 0011), end to end with real
 * processes: blue and green Boka instances from this checkout on ONE database (the server's
 * PostgreSQL when DATABASE_URL is set, else PGlite over its socket server), the built-in router
 * and controller in this process, signed-in load, a fault proxy in front of green.
 *
 * "A release with a migration" is simulated without any test hook in production code, only a
 * migrations source (`BOKA_MIGRATIONS_DIR`): a directory holding the shipped migrations plus a
 * test-only fixture (test/rollout/fixtures/migrations/).
 * - On PostgreSQL the controller gets that source and the plan says `preflight.migrate: apply`:
 *   the preflight applies the fixture before any traffic moves.
 * - On PGlite (one shared backend session, dropped to the app role once the instances have
 *   started, so row-level security and deep health behave) nobody can migrate through the
 *   socket afterwards: green is started with `BOKA_MIGRATIONS_DIR` and applies the fixture
 *   itself, as a release does today, and the plan says `preflight.migrate: check`.
 * Each test gets a fresh database and fresh instances.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { MIGRATIONS_DIR } from '../../../src/db/index.js';
import { ChildGroup, startBokaInstance, type BokaInstance } from '../../../src/rollout/demo/boka-instances.js';
import { startFaultProxy, type FaultProxy } from '../../../src/rollout/demo/fault-proxy.js';
import { startSharedDatabase, type SharedDatabase } from '../../../src/rollout/demo/shared-database.js';
import { startTraffic } from '../../../src/rollout/demo/traffic.js';
import { startRollout, type RunningRollout } from '../../../src/rollout/start-rollout.js';
import type { ControllerResult } from '../../../src/rollout/controller.service.js';
import { finished, plan } from './helpers.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/migrations/', import.meta.url));
const LIMIT_MS = 120_000;

describe('migrations before traffic, verification after rollback (real Boka processes)', { timeout: 400_000 }, () => {
  const onServer = Boolean(process.env.DATABASE_URL);
  const mode = onServer ? 'apply' : 'check';
  let root: string;
  const cleanups: (() => Promise<void>)[] = [];

  /** A migrations source: the shipped files plus the named test-only fixtures. */
  function sourceWith(name: string, fixtures: readonly string[]): string {
    const dir = mkdtempSync(join(root, `${name}-`));
    for (const f of readdirSync(MIGRATIONS_DIR)) copyFileSync(join(MIGRATIONS_DIR, f), join(dir, f));
    for (const f of fixtures) copyFileSync(join(FIXTURES, f), join(dir, f));
    return dir;
  }

  /** Fresh database, blue and green (green behind a fault proxy), and a rollout not yet started. */
  async function setUp(yaml: string, migrationsDir: string): Promise<{ r: RunningRollout; blue: BokaInstance; greenProxy: FaultProxy }> {
    const group = new ChildGroup();
    const database: SharedDatabase = await startSharedDatabase(process.env.DATABASE_URL);
    let greenProxy: FaultProxy | null = null;
    let r: RunningRollout | null = null;
    cleanups.push(async () => {
      await r?.controller.stop().catch(() => undefined);
      await r?.close().catch(() => undefined);
      await greenProxy?.close().catch(() => undefined);
      await group.close();
      await database.close().catch(() => undefined);
    });
    const common = { databaseUrl: database.url, poolMax: database.poolMax, preparedStatements: database.preparedStatements, secretKey: randomBytes(32).toString('base64url') };
    const blue = await startBokaInstance(group, { ...common, version: '1.0.0-blue' });
    const green = await startBokaInstance(group, { ...common, version: '1.1.0-green', extraEnv: onServer ? {} : { BOKA_MIGRATIONS_DIR: migrationsDir } });
    await database.dropToAppRole();
    const proxy = await startFaultProxy(green.url);
    greenProxy = proxy;
    r = await startRollout({
      plan: plan(yaml.replace('MODE', mode)),
      blue: [blue.url],
      green: [proxy.url],
      listenHost: '127.0.0.1',
      listenPort: 0,
      reportRoot: join(root, 'reports'),
      database: { url: database.url, migrationsDir },
      onChange(status) {
        if (status.weight > 0) proxy.arm({ errorRate: 0.3 });
      },
    });
    return { r, blue, greenProxy: proxy };
  }

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'boka-migrations-e2e-'));
  });
  after(async () => {
    for (const c of cleanups) await c();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('an additive migration applied in preflight: rolls out, rolls back with 0 failed requests on blue, and the report lists the four seed checks', async (t) => {
    const { r, greenProxy } = await setUp(`
interval: 1s
window: 3s
minSamples: 15
preflight: { migrate: MODE, timeout: 15s }
steps:
  - { weight: 25, duration: 60s }
  - { weight: 100 }
rules:
  - { name: error-rate, metric: error_rate, op: ">", threshold: 1%, action: rollback }
bake: { duration: 3s, interval: 1s }
`, sourceWith('additive', ['900.do.additive-column.sql']));
    const traffic = startTraffic({ url: r.routerUrl, users: 8, rps: 60, loginEvery: 8 });
    let result: ControllerResult;
    try {
      await traffic.ready;
      await r.controller.start();
      result = await finished(r, LIMIT_MS);
    } finally {
      await traffic.stop();
      greenProxy.disarm();
      await r.close();
    }
    assert.equal(result.outcome, 'rolled_back', JSON.stringify(result.report.timeline.slice(-3)));
    const preflight = readPreflight(r.outputDir);
    assert.match(preflight.find((c) => c.name === `migrations (${mode})`)?.detail ?? '', /schema at 900/, JSON.stringify(preflight[0]));
    assert.ok(preflight.some((c) => c.name.startsWith('blue on new schema: smoke') && c.ok), 'blue smoke ran on the new schema');
    assert.ok((traffic.stats.byColor.blue ?? 0) > 0 && (traffic.stats.byColor.green ?? 0) > 0, JSON.stringify(traffic.stats.byColor));
    // Every failure is one the proxy injected on green: blue answered everything.
    assert.equal(traffic.stats.unexpected, 0, JSON.stringify(traffic.stats.failures.filter((f) => !f.injected).slice(0, 5)));
    assert.ok(traffic.stats.failures.every((f) => f.color !== 'blue'));
    const v = result.report.rollbackVerification;
    assert.ok(v, 'the report carries the post-rollback verification');
    assert.deepEqual(v.checks.map((c) => [c.name, c.ok]), [['database', true], ['sessions', true], ['login', true], ['permissions', true]], JSON.stringify(v.checks));
    assert.match(v.checks[1]?.detail ?? '', /via blue, green/);
    assert.match(v.checks[3]?.detail ?? '', /non-member 403/);
    assert.match(readFileSync(join(r.outputDir, 'report.md'), 'utf8'), /## Post-rollback verification[\s\S]*\| permissions \| pass \|/);
    t.diagnostic(`traffic: ${traffic.stats.total} requests (${JSON.stringify(traffic.stats.byColor)}), ${traffic.stats.injected} injected on green, ${traffic.stats.unexpected} other failures`);
  });

  it('a migration that breaks blue is stopped by the preflight\'s blue smoke before green takes any traffic', async () => {
    const { r, blue } = await setUp(`
interval: 1s
window: 3s
preflight: { migrate: MODE, timeout: 15s }
steps:
  - { weight: 50, duration: 5s }
  - { weight: 100 }
bake: { duration: 2s, interval: 1s }
`, sourceWith('breaking', ['900.do.additive-column.sql', '901.do.breaking-rename.sql']));
    try {
      await r.controller.start();
      const result = await finished(r, LIMIT_MS);
      assert.notEqual(result.outcome, 'promoted');
      assert.ok(result.report.timeline.some((e) => e.kind === 'preflight_failed'), JSON.stringify(result.report.timeline));
      const preflight = readPreflight(r.outputDir);
      assert.match(preflight.find((c) => c.name === `migrations (${mode})`)?.detail ?? '', /schema at 901/);
      const blueSignup = preflight.find((c) => c.name === `blue on new schema: smoke ${blue.url} signup`);
      assert.equal(blueSignup?.ok, false, JSON.stringify(preflight.filter((c) => !c.ok)));
      // Traffic never moved: no weight above 0 was ever applied, the router sent green nothing.
      assert.ok(readTrafficEvents(r.outputDir).every((e) => e.weight === 0));
      assert.equal(r.controller.readStatus().weight, 0);
    } finally {
      await r.close();
    }
  });
});

function readLogged<T>(outputDir: string, type: string): T[] {
  const lines = readFileSync(join(outputDir, 'events.jsonl'), 'utf8').split('\n').filter(Boolean);
  return lines.map((l) => JSON.parse(l) as { type: string }).filter((e) => e.type === type) as T[];
}

function readPreflight(outputDir: string): { name: string; ok: boolean; detail: string }[] {
  return readLogged<{ checks: { name: string; ok: boolean; detail: string }[] }>(outputDir, 'preflight').at(-1)?.checks ?? [];
}

function readTrafficEvents(outputDir: string): { weight: number }[] {
  return readLogged<{ weight: number }>(outputDir, 'traffic');
}
