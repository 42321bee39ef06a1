import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildAnalysisTemplate } from '../../src/deploy/analysis.core.js';
import { buildPrometheusRules } from '../../src/deploy/prometheus-rules.core.js';
import { renderRuleFile, renderYaml } from '../../src/deploy/render.core.js';
import { DEFAULT_PLAN } from '../../src/rollout/plan.core.js';
import { plan } from '../rollout/e2e/helpers.js';
import { counter, promtool, withFiles } from './promtool.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));

describe('promtool: generated Prometheus rules', () => {
  it('check rules: the default plan and a compressed plan', () => {
    for (const p of [DEFAULT_PLAN, plan('interval: 1s\nwindow: 5s\nminSamples: 5\nrules:\n  - { metric: error_rate, op: ">=", threshold: 2%, for: 3s, action: pause }\n')]) {
      withFiles({ 'rules.yaml': renderRuleFile(buildPrometheusRules(p).file) }, (dir) => {
        const { code, output } = promtool(['check', 'rules', 'rules.yaml'], dir);
        assert.equal(code, 0, output);
        assert.match(output, /SUCCESS: \d+ rules found/);
      });
    }
  });

  it('check rules rejects a broken expression (the check can fail)', () => {
    withFiles({ 'rules.yaml': 'groups:\n  - name: x\n    rules:\n      - record: a:b\n        expr: sum(rate(x[1m])\n' }, (dir) => {
      assert.notEqual(promtool(['check', 'rules', 'rules.yaml'], dir).code, 0);
    });
  });

  it('test rules: test/deploy/rules.promtest.yaml (fires on crossing for the window; not on shorter crossings or too little traffic)', () => {
    const { code, output } = promtool(['test', 'rules', 'rules.promtest.yaml'], HERE);
    assert.equal(code, 0, output);
    assert.match(output, /SUCCESS/);
  });
});

describe('promtool: the Argo analysis queries', () => {
  const template = buildAnalysisTemplate(DEFAULT_PLAN, { name: 'boka-rollout' }).object as { spec: { metrics: { name: string; provider: { prometheus: { query: string } } }[] } };
  const query = (name: string) => template.spec.metrics.find((m) => m.name === name)!.provider.prometheus.query.replaceAll('{{args.canary-version}}', '1.1.0');
  const req = (version: string, status: string, perStep: number) =>
    counter(`boka_http_requests_total{job="boka",instance="${version}",version="${version}",method="GET",route="/api/auth/me",status_code="${status}"}`, perStep);

  /** Evaluates the error-rate query at 2m over the series and expects one value. */
  function expectValue(series: { series: string; values: string }[], value: number): void {
    const test = { rule_files: [], evaluation_interval: '10s', tests: [{ interval: '10s', input_series: series, promql_expr_test: [{ expr: query('error-rate'), eval_time: '2m', exp_samples: [{ labels: '{}', value }] }] }] };
    withFiles({ 'argo.promtest.yaml': renderYaml(test) }, (dir) => {
      const { code, output } = promtool(['test', 'rules', 'argo.promtest.yaml'], dir);
      assert.equal(code, 0, output);
    });
  }

  it('too little canary traffic is -1 (inconclusive), even at 50 % errors', () => {
    expectValue([req('1.1.0', '200', 1), req('1.1.0', '500', 1), req('1.0.0', '200', 30)], -1);
  });
  it('no canary series at all is -1', () => {
    expectValue([req('1.0.0', '200', 30)], -1);
  });
  it('crossed, but stable is as bad within the margin: -2 (excused, inconclusive)', () => {
    expectValue([req('1.1.0', '200', 27), req('1.1.0', '500', 3), req('1.0.0', '200', 27), req('1.0.0', '500', 3)], -2);
  });
  it('a healthy canary with enough traffic is its error rate (0)', () => {
    expectValue([req('1.1.0', '200', 30), req('1.0.0', '200', 30)], 0);
  });
});
