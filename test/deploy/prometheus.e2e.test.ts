/**
 * Real Prometheus, end to end (issue 15): the Debian `prometheus` server scrapes a blue and a
 * green Boka process (one shared database, as in test/rollout/e2e) every second, with the
 * recording and alerting rules `boka deploy prometheus-rules` generates from a compressed plan.
 * Green's database connection is cut (test/deploy/helpers/db-cut-proxy.ts), so Boka itself
 * answers 503 and counts it. Every loop is bounded; `after` kills every process.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildAnalysisTemplate, type AnalysisMetric } from '../../src/deploy/analysis.core.js';
import { buildPanelSpecs } from '../../src/deploy/grafana.core.js';
import { buildPrometheusRules } from '../../src/deploy/prometheus-rules.core.js';
import { recordedName, recordedRequests } from '../../src/deploy/promql.core.js';
import { renderRuleFile } from '../../src/deploy/render.core.js';
import { ChildGroup, startBokaInstance, waitForOk, type BokaInstance } from '../../src/rollout/demo/boka-instances.js';
import { startSharedDatabase, type SharedDatabase } from '../../src/rollout/demo/shared-database.js';
import { startTraffic, type Traffic } from '../../src/rollout/demo/traffic.js';
import { startRollout, type RunningRollout } from '../../src/rollout/start-rollout.js';
import { finished, plan } from '../rollout/e2e/helpers.js';
import { startDbCutProxy, type DbCutProxy } from './helpers/db-cut-proxy.js';
import { startPrometheus, type PrometheusServer } from './helpers/prometheus-server.js';

/** The release policy, compressed to seconds; the rules Prometheus loads come from it. */
const PLAN = plan(`
interval: 1s
window: 5s
minSamples: 10
steps:
  - { weight: 50, duration: 60s }
  - { weight: 100 }
rules:
  - { name: error-rate, metric: error_rate, op: ">", threshold: 1%, action: rollback, compareWithBlue: { margin: 0.5% } }
  - { name: db-errors, metric: db_error_rate, op: ">", threshold: 5%, action: rollback, compareWithBlue: { margin: 1% } }
bake: { duration: 3s, interval: 1s }
`);

describe('generated Prometheus rules against a real Prometheus and real Boka processes', { timeout: 300_000 }, () => {
  const group = new ChildGroup();
  let database: SharedDatabase | undefined;
  let cutProxy: DbCutProxy | undefined;
  let blue: BokaInstance;
  let green: BokaInstance;
  let prometheus: PrometheusServer;
  let reportRoot: string;
  const traffics: Traffic[] = [];
  const rollouts: RunningRollout[] = [];

  before(async () => {
    reportRoot = mkdtempSync(join(tmpdir(), 'boka-deploy-e2e-'));
    database = await startSharedDatabase(process.env.DATABASE_URL);
    const common = { poolMax: database.poolMax, preparedStatements: database.preparedStatements, secretKey: Buffer.alloc(32, 7).toString('base64url') };
    blue = await startBokaInstance(group, { ...common, databaseUrl: database.url, version: '1.0.0-blue' });
    cutProxy = await startDbCutProxy(database.url);
    green = await startBokaInstance(group, { ...common, databaseUrl: cutProxy.url, version: '1.1.0-green' });
    await database.dropToAppRole();
    prometheus = await startPrometheus(group, {
      rules: renderRuleFile(buildPrometheusRules(PLAN).file),
      targets: [
        { address: new URL(blue.url).host, labels: { color: 'blue' } },
        { address: new URL(green.url).host, labels: { color: 'green' } },
      ],
    });
    await prometheus.waitFor('both targets scraped', 30_000, async () => ((await prometheus.query('up == 1')).length === 2 ? true : undefined));
  });

  after(async () => {
    for (const t of traffics) await t.stop().catch(() => undefined);
    for (const r of rollouts) {
      await r.controller.stop().catch(() => undefined);
      await r.close().catch(() => undefined);
    }
    await prometheus?.close().catch(() => undefined);
    await group.close();
    await cutProxy?.close().catch(() => undefined);
    await database?.close().catch(() => undefined);
    if (reportRoot) rmSync(reportRoot, { recursive: true, force: true });
  });

  async function healGreen(): Promise<void> {
    cutProxy?.heal();
    await waitForOk(`${green.url}/api/health/ready`, 30_000);
    // The next rollout's preflight checks deep health: wait until the reconnected pool serves it.
    await waitForOk(`${green.url}/api/health/deep`, 30_000);
  }

  const firing = async (version: string) =>
    (await prometheus.alerts()).filter((a) => a.state === 'firing' && a.labels.version === version).map((a) => a.labels.alertname ?? '');

  /** The Argo metric's query for `canary`, and what Argo would make of its value. */
  async function measure(metric: AnalysisMetric, canary: string): Promise<{ value: number; verdict: 'Successful' | 'Failed' | 'Inconclusive' }> {
    const result = await prometheus.query(metric.provider.prometheus.query.replaceAll('{{args.canary-version}}', canary));
    const value = Number(result[0]?.value[1]);
    const holds = (condition: string) => new Function('result', `return ${condition}`)([value]) as boolean;
    return { value, verdict: holds(metric.failureCondition) ? 'Failed' : holds(metric.successCondition) ? 'Successful' : 'Inconclusive' };
  }

  it('an error fault on green fires the generated alert for green only, and the Argo analysis fails green', async () => {
    // Light load: the two instances share one PGlite session, and the machine is shared too.
    const toGreen = startTraffic({ url: green.url, users: 4, rps: 20, loginEvery: 3 });
    const toBlue = startTraffic({ url: blue.url, users: 4, rps: 20, loginEvery: 3 });
    traffics.push(toGreen, toBlue);
    await Promise.all([toGreen.ready, toBlue.ready]);
    const requests = recordedRequests(PLAN.windowMs);
    await prometheus.waitFor('green has minSamples requests in the window', 30_000, async () =>
      Number((await prometheus.query(`${requests}{version="${green.version}"}`))[0]?.value[1] ?? 0) >= PLAN.minSamples ? true : undefined,
    );
    assert.deepEqual(await firing(green.version), [], 'healthy green: no alert');
    const analysis = buildAnalysisTemplate(PLAN, { name: 'boka-rollout' }).object as { spec: { metrics: AnalysisMetric[] } };
    const errorRate = analysis.spec.metrics.find((m) => m.name === 'error-rate')!;
    // Bounded wait: on a loaded machine a window can briefly hold fewer than minSamples requests.
    await prometheus.waitFor('healthy green measured Successful by the Argo query', 20_000, async () =>
      (await measure(errorRate, green.version)).verdict === 'Successful' ? true : undefined,
    );
    assert.equal((await measure(errorRate, '9.9.9-absent')).value, -1, 'a version with no traffic is -1 (inconclusive)');

    cutProxy!.cut();
    const alerts = await prometheus.waitFor('BokaErrorRate firing for green', 45_000, async () => {
      const names = await firing(green.version);
      return names.includes('BokaErrorRate') ? names : undefined;
    });
    assert.ok(alerts.includes('BokaErrorRate'), alerts.join(','));
    assert.deepEqual(await firing(blue.version), [], 'blue stays quiet');
    const green503 = await prometheus.query(`sum(increase(boka_http_requests_total{version="${green.version}",status_code=~"5.."}[1m]))`);
    assert.ok(Number(green503[0]?.value[1]) > 0, 'Boka itself counted the failures');
    const measured = await measure(errorRate, green.version);
    assert.equal(measured.verdict, 'Failed', `Argo error-rate measurement on green: ${measured.value}`);
    assert.equal((await measure(errorRate, blue.version)).verdict, 'Successful', 'blue judged against green is fine');

    await toGreen.stop();
    await toBlue.stop();
    await healGreen();
  });

  it('the single-host rollout, judging by Prometheus (generated recording rules), rolls green back', async () => {
    // Rules read by the Prometheus metric source: the generated recording rules, per color.
    const rulePlan = plan(`
interval: 1s
window: 5s
minSamples: 10
steps:
  - { weight: 50, duration: 60s }
  - { weight: 100 }
rules:
  - name: prom-error-rate
    metric: prom_error_rate
    op: ">"
    threshold: 1%
    action: rollback
    compareWithBlue: false
    query: '${recordedName('error_rate', PLAN.windowMs)}{color="$color"}'
    samplesQuery: '${recordedRequests(PLAN.windowMs)}{color="$color"}'
bake: { duration: 3s, interval: 1s }
preflight: { timeout: 15s }
metrics: { scrapePath: false, prometheus: { url: "${prometheus.url}" } }
`);
    let armed = false;
    const rollout = await startRollout({
      plan: rulePlan,
      blue: [blue.url],
      green: [green.url],
      listenHost: '127.0.0.1',
      listenPort: 0,
      reportRoot,
      // What is under test is the Prometheus rule. With its readiness checks on, the router would
      // eject the DB-less green first (it fails readiness) and the controller would roll back on
      // green's deep probe (test/rollout/e2e/seed-gates.e2e.test.ts covers that path).
      routerHealthCheck: false,
      onChange(status) {
        if (!armed && status.weight > 0) {
          armed = true;
          cutProxy!.cut();
        }
      },
    });
    rollouts.push(rollout);
    const traffic = startTraffic({ url: rollout.routerUrl, users: 8, rps: 40, loginEvery: 3 });
    traffics.push(traffic);
    try {
      await traffic.ready;
      await rollout.controller.start();
      const result = await finished(rollout, 90_000);
      assert.equal(result.outcome, 'rolled_back', JSON.stringify(result.report.timeline.slice(-3)));
      assert.equal(result.report.incident?.rule?.rule, 'prom-error-rate');
      assert.ok(armed, 'the fault was armed once green took traffic');
    } finally {
      await traffic.stop();
      await healGreen();
    }
  });

  it("every Grafana panel's PromQL parses and returns series", async () => {
    // One authentication failure, so the by-reason panel has a series to show.
    const denied = await fetch(`${blue.url}/api/auth/me`, { headers: { authorization: 'Bearer not-a-token' } });
    assert.equal(denied.status, 401);
    await prometheus.waitFor('the auth failure scraped', 15_000, async () => ((await prometheus.query('boka_auth_failures_total')).length > 0 ? true : undefined));
    const targets = buildPanelSpecs(PLAN).flatMap((panel) => panel.targets.map((t) => ({ title: panel.title, expr: t.expr })));
    const emptyNow = async () => {
      const empty: string[] = [];
      for (const t of targets) {
        if ((await prometheus.query(t.expr.replaceAll('$version', '.*'))).length === 0) empty.push(`${t.title}: ${t.expr}`);
      }
      return empty;
    };
    // A rate() needs two scrapes of a series inside its range, so a counter that was born a
    // moment ago shows up a scrape or two later; wait (bounded) instead of judging one instant.
    let empty = await emptyNow();
    for (let i = 0; i < 15 && empty.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 1_000));
      empty = await emptyNow();
    }
    assert.deepEqual(empty, []);
  });
});
