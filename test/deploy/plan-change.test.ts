/**
 * One plan, three consumers: a change to a step, a threshold and a window changes the
 * single-host decision core, the Argo Rollout/analysis and the Prometheus alert together.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnalysisMetric } from '../../src/deploy/analysis.core.js';
import { buildK8sBundle, buildPrometheusRules, resolveK8sOptions } from '../../src/deploy/index.js';
import { renderRuleFile, renderYaml } from '../../src/deploy/render.core.js';
import type { Plan } from '../../src/rollout/plan.schema.js';
import { plan } from '../rollout/e2e/helpers.js';
import { DecisionSim } from '../rollout/helpers/decision-sim.js';
import { counter, promtool, withFiles } from './promtool.js';

const variant = (weight: number, threshold: string, window: string) =>
  plan(`
interval: 10s
window: ${window}
minSamples: 30
steps: [{ weight: ${weight}, duration: 5m }, { weight: 100 }]
rules:
  - { name: error-rate, metric: error_rate, op: ">", threshold: ${threshold}, action: rollback, compareWithBlue: false }
`);

const before = variant(10, '1%', '1m');
const after = variant(20, '3%', '2m');
/** Green fails 2 % of its requests: over the old threshold, under the new one. */
const GREEN_ERROR_RATE = 0.02;

function singleHost(p: Plan) {
  const sim = new DecisionSim(p);
  sim.startHealthy();
  sim.observe({ requests: 5 });
  const holding = sim.decisions.find((d) => d.kind === 'insufficient_data')?.message ?? '';
  // Issue 13: a breach needs significant evidence; 2 % vs 1 % takes a few minutes of pooled windows.
  sim.run(4 * 60_000, { requests: 1000, errorRate: GREEN_ERROR_RATE });
  return { firstWeight: sim.weights[0], rolledBack: sim.count('rollback') > 0, holding };
}

function argo(p: Plan) {
  const files = buildK8sBundle(p, resolveK8sOptions({ image: 'x/boka:1.1.0' })).files.flatMap((f) => f.objects);
  const rollout = files.find((o) => o.kind === 'Rollout') as { spec: { strategy: { canary: { steps: Record<string, unknown>[] } } } };
  const template = files.find((o) => o.kind === 'AnalysisTemplate' && (o.metadata as { name: string }).name === 'boka-rollout') as { spec: { metrics: AnalysisMetric[] } };
  const metric = template.spec.metrics[0]!;
  const holds = (condition: string) => new Function('result', `return ${condition}`)([GREEN_ERROR_RATE]) as boolean;
  return {
    firstWeight: rollout.spec.strategy.canary.steps.find((s) => 'setWeight' in s)?.setWeight,
    verdict: holds(metric.failureCondition) ? 'Failed' : holds(metric.successCondition) ? 'Successful' : 'Inconclusive',
    ranges: [...new Set([...metric.provider.prometheus.query.matchAll(/\[(\w+)\]/g)].map((m) => m[1]))],
    initialDelay: metric.initialDelay,
  };
}

/** Runs promtool on the plan's generated rules with green at 2 % errors; returns the firing alert names. */
function alertFires(p: Plan): { fires: boolean; expr: string } {
  const rules = buildPrometheusRules(p).file;
  const alert = rules.groups[1]!.rules[0] as { alert: string; expr: string };
  const series = (status: string, perStep: number) =>
    counter(`boka_http_requests_total{job="boka",instance="a",version="1.1.0",method="GET",route="/api/auth/me",status_code="${status}"}`, perStep, 60);
  // Expect no alert: promtool fails exactly when the alert does fire.
  const test = {
    rule_files: ['rules.yaml'],
    evaluation_interval: '10s',
    tests: [{ interval: '10s', input_series: [series('200', 49), series('500', 1)], alert_rule_test: [{ eval_time: '5m', alertname: alert.alert, exp_alerts: [] }] }],
  };
  return withFiles({ 'rules.yaml': renderRuleFile(rules), 't.promtest.yaml': renderYaml(test) }, (dir) => {
    const { code, output } = promtool(['test', 'rules', 't.promtest.yaml'], dir);
    assert.ok(code === 0 || /got:\[\s*0:/.test(output), output);
    return { fires: code !== 0, expr: alert.expr };
  });
}

describe('a plan change moves the single host, Argo and the alert together', () => {
  it('step 10 % → 20 %, threshold 1 % → 3 %, window 1m → 2m', () => {
    const host = [singleHost(before), singleHost(after)];
    const cluster = [argo(before), argo(after)];
    const alerts = [alertFires(before), alertFires(after)];

    // the step
    assert.deepEqual(host.map((h) => h.firstWeight), [10, 20]);
    assert.deepEqual(cluster.map((c) => c.firstWeight), [10, 20]);
    // the threshold: 2 % errors roll back / fail / alert under 1 %, and pass under 3 %
    assert.deepEqual(host.map((h) => h.rolledBack), [true, false]);
    assert.deepEqual(cluster.map((c) => c.verdict), ['Failed', 'Successful']);
    assert.deepEqual(alerts.map((a) => a.fires), [true, false]);
    // the window
    assert.match(host[0]!.holding, /in the last 1m,/);
    assert.match(host[1]!.holding, /in the last 2m,/);
    assert.deepEqual(cluster.map((c) => c.ranges), [['1m'], ['2m']]);
    assert.deepEqual(cluster.map((c) => c.initialDelay), ['1m', '2m']);
    assert.match(alerts[0]!.expr, /^version:boka_http_errors:ratio_rate1m > 0\.01 and version:boka_http_requests:increase1m >= 30$/);
    assert.match(alerts[1]!.expr, /^version:boka_http_errors:ratio_rate2m > 0\.03 and version:boka_http_requests:increase2m >= 30$/);
  });
});
