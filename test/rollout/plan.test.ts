import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { formatDuration, parseDuration } from '../../src/rollout/duration.core.js';
import { DEFAULT_PLAN, formatPlanErrors, loadPlan } from '../../src/rollout/plan.core.js';

describe('parseDuration', () => {
  const cases: [string, number | undefined][] = [
    ['30s', 30_000], ['5m', 300_000], ['2h', 7_200_000], ['1h30m', 5_400_000], ['250ms', 250],
    ['0', 0], ['0s', 0], ['1.5s', 1500], ['5 minutes', undefined], ['10', undefined], ['', undefined], ['m5', undefined],
  ];
  for (const [text, expected] of cases) {
    it(`${JSON.stringify(text)} → ${String(expected)}`, () => assert.equal(parseDuration(text), expected));
  }
  it('formats back to the plan notation', () => {
    assert.equal(formatDuration(5_400_000), '1h30m');
    assert.equal(formatDuration(45_000), '45s');
    assert.equal(formatDuration(250), '250ms');
  });
});

describe('loadPlan', () => {
  it('an empty file is the default plan', () => {
    const result = loadPlan('');
    assert.ok(result.ok);
    assert.deepEqual(result.plan, DEFAULT_PLAN);
  });

  it('examples/rollout.yaml spells out exactly the default plan', () => {
    const result = loadPlan(readFileSync(new URL('../../examples/rollout.yaml', import.meta.url), 'utf8'));
    assert.ok(result.ok, result.ok ? '' : formatPlanErrors(result.errors, 'examples/rollout.yaml'));
    assert.deepEqual(result.plan, DEFAULT_PLAN);
  });

  it('examples/rollout-demo.yaml is valid and fast', () => {
    const result = loadPlan(readFileSync(new URL('../../examples/rollout-demo.yaml', import.meta.url), 'utf8'));
    assert.ok(result.ok);
    assert.equal(result.plan.intervalMs, 1000);
    assert.deepEqual(result.plan.steps.map((s) => s.weight), [10, 50, 100]);
  });

  it('normalizes percentages, latencies, durations and compare margins', () => {
    const result = loadPlan(`
interval: 2s
rollback: freeze
steps:
  - { weight: 20, duration: 30s, gate: manual }
  - { weight: 100 }
rules:
  - { metric: error_rate, op: ">", threshold: 2.5%, action: rollback }
  - { name: slow, metric: p95_latency_ms, op: ">=", threshold: 0.5s, for: 1m, action: pause, compareWithBlue: false }
  - { name: db, metric: db_error_rate, op: ">", threshold: 0.05, action: rollback, compareWithBlue: { margin: 1% } }
webhooks: [ "http://127.0.0.1:9/hook" ]
`);
    assert.ok(result.ok, result.ok ? '' : formatPlanErrors(result.errors, 'x'));
    const { plan } = result;
    assert.equal(plan.intervalMs, 2000);
    assert.equal(plan.rollback, 'freeze');
    assert.deepEqual(plan.steps, [
      { weight: 20, durationMs: 30_000, gate: 'manual' },
      { weight: 100, durationMs: 0, gate: 'auto' },
    ]);
    assert.deepEqual(plan.rules.map((r) => [r.name, r.threshold, r.forMs, r.compareWithBlue]), [
      ['error_rate > 2.5%', 0.025, 0, { margin: 0 }],
      ['slow', 500, 60_000, null],
      ['db', 0.05, 0, { margin: 0.01 }],
    ]);
    assert.equal(plan.webhooks[0]?.events.length, 8, "every event, including stuck, analysis_error and rollback_failed");
  });

  // Each bad plan must produce an error at this line, on this field, mentioning this expectation.
  const bad: { name: string; yaml: string; line: number; field: string; expected: RegExp }[] = [
    { name: 'human duration', yaml: 'steps:\n  - weight: 10\n    duration: 5 minutes\n  - weight: 100\n', line: 3, field: 'steps[0].duration', expected: /duration like 30s/ },
    { name: 'misspelled field', yaml: 'steps:\n  - weight: 10\n    duraton: 5m\n  - weight: 100\n', line: 3, field: 'steps[0].duraton', expected: /known field \(weight, duration, gate, progressDeadline\)/ },
    { name: 'unknown operator', yaml: 'rules:\n  - metric: error_rate\n    op: "=>"\n    threshold: 1%\n    action: rollback\n', line: 3, field: 'rules[0].op', expected: /one of ">", ">=", "<", "<="/ },
    { name: 'unknown action', yaml: 'rules:\n  - metric: error_rate\n    op: ">"\n    threshold: 1%\n    action: explode\n', line: 5, field: 'rules[0].action', expected: /"rollback" or "pause"/ },
    { name: 'unknown metric', yaml: 'rules:\n  - metric: p95\n    op: ">"\n    threshold: 1%\n    action: rollback\n', line: 2, field: 'rules[0].metric', expected: /error_rate, p95_latency_ms/ },
    { name: 'rate above 1', yaml: 'rules:\n  - metric: error_rate\n    op: ">"\n    threshold: 5\n    action: rollback\n', line: 4, field: 'rules[0].threshold', expected: /fraction between 0 and 1/ },
    { name: 'weights going down', yaml: 'steps:\n  - { weight: 50, duration: 1m }\n  - { weight: 25, duration: 1m }\n  - { weight: 100 }\n', line: 3, field: 'steps[1].weight', expected: /greater than the previous step's 50/ },
    { name: 'last step not 100', yaml: 'steps:\n  - { weight: 50, duration: 1m }\n', line: 2, field: 'steps[0].weight', expected: /100 on the last step/ },
    { name: 'missing step duration', yaml: 'steps:\n  - { weight: 50 }\n  - { weight: 100 }\n', line: 2, field: 'steps[0].duration', expected: /duration like/ },
    { name: 'weight over 100', yaml: 'steps:\n  - { weight: 150, duration: 1m }\n', line: 2, field: 'steps[0].weight', expected: /<= 100/ },
    { name: 'missing required rule field', yaml: 'rules:\n  - metric: error_rate\n    op: ">"\n    threshold: 1%\n', line: 2, field: 'rules[0].action', expected: /required field/ },
    { name: 'query without prometheus', yaml: 'rules:\n  - { metric: checkout_errors, op: ">", threshold: 3, action: rollback, query: "sum(x)" }\n', line: 2, field: 'rules[0].query', expected: /metrics.prometheus.url/ },
    { name: 'bad webhook URL', yaml: 'webhooks:\n  - "ftp://x"\n', line: 2, field: 'webhooks[0]', expected: /http\(s\) URL/ },
    { name: 'unknown top-level field', yaml: 'interval: 10s\nstepz: []\n', line: 2, field: 'stepz', expected: /known field/ },
    { name: 'broken YAML', yaml: 'steps: [\n  - weight: 1\n', line: 2, field: '(yaml)', expected: /valid YAML/ },
    { name: 'duplicate key', yaml: 'interval: 1s\nwindow: 1m\ninterval: 2s\n', line: 3, field: '(yaml)', expected: /valid YAML/ },
  ];
  for (const c of bad) {
    it(`reports ${c.name} with line, field and expectation`, () => {
      const result = loadPlan(c.yaml);
      assert.equal(result.ok, false);
      if (result.ok) return;
      const hit = result.errors.find((e) => e.field === c.field);
      assert.ok(hit, `no error on ${c.field}; got:\n${formatPlanErrors(result.errors, 'plan.yaml')}`);
      if (c.name !== 'broken YAML') assert.equal(hit.line, c.line, formatPlanErrors([hit], 'plan.yaml'));
      assert.match(hit.expected, c.expected);
    });
  }

  it('reports several independent problems at once, sorted by line', () => {
    const result = loadPlan('rules:\n  - { metric: error_rate, op: "=>", threshold: 1%, action: rollback }\n  - { metric: error_rate, op: ">", threshold: 1%, action: nope }\nwebhooks: ["ftp://x"]\n');
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.deepEqual(result.errors.map((e) => [e.line, e.field]), [[2, 'rules[0].op'], [3, 'rules[1].action'], [4, 'webhooks[0]']]);
    assert.match(formatPlanErrors(result.errors, 'p.yaml'), /^p\.yaml:2:\d+ rules\[0\]\.op: expected one of/);
  });
});
