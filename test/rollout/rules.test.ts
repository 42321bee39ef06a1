import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Rule } from '../../src/rollout/plan.schema.js';
import { evaluateRule } from '../../src/rollout/rules.core.js';
import { buildWindow, type WindowSpec } from './helpers/decision-sim.js';

const errorRule: Rule = { name: 'err', metric: 'error_rate', op: '>', threshold: 0.01, forMs: 0, action: 'rollback', compareWithBlue: { margin: 0.005 }, query: null };
const slowRule: Rule = { name: 'slow', metric: 'p95_latency_ms', op: '>', threshold: 500, forMs: 120_000, action: 'rollback', compareWithBlue: null, query: null };
const floorRule: Rule = { name: 'floor', metric: 'error_rate', op: '<', threshold: 0.5, forMs: 0, action: 'pause', compareWithBlue: { margin: 0.1 }, query: null };

function observe(at: number, green: WindowSpec, blue: WindowSpec) {
  return { at, windowMs: 60_000, green: buildWindow(green), blue: buildWindow(blue) };
}

describe('evaluateRule', () => {
  const cases: { name: string; rule: Rule; green: WindowSpec; blue: WindowSpec; since?: number | null; at?: number; status: string; compared: boolean }[] = [
    { name: 'inside threshold', rule: errorRule, green: { requests: 100, errorRate: 0.005 }, blue: { requests: 100 }, status: 'ok', compared: true },
    { name: 'equal to threshold is not > it', rule: errorRule, green: { requests: 100, errorRate: 0.01 }, blue: { requests: 100 }, status: 'ok', compared: true },
    { name: 'over threshold and worse than blue', rule: errorRule, green: { requests: 100, errorRate: 0.05 }, blue: { requests: 100, errorRate: 0.01 }, status: 'breached', compared: true },
    { name: 'over threshold but blue as bad (within margin)', rule: errorRule, green: { requests: 100, errorRate: 0.05 }, blue: { requests: 100, errorRate: 0.048 }, status: 'excused', compared: true },
    { name: 'over threshold, blue bad but beyond margin', rule: errorRule, green: { requests: 100, errorRate: 0.05 }, blue: { requests: 100, errorRate: 0.04 }, status: 'breached', compared: true },
    { name: 'blue below minSamples: green judged alone', rule: errorRule, green: { requests: 100, errorRate: 0.05 }, blue: { requests: 5, errorRate: 0.05 }, status: 'breached', compared: false },
    { name: 'compare disabled', rule: slowRule, green: { requests: 100, p95: 900 }, blue: { requests: 100, p95: 900 }, since: 0, at: 120_000, status: 'breached', compared: false },
    { name: 'for window not yet elapsed', rule: slowRule, green: { requests: 100, p95: 900 }, blue: { requests: 100, p95: 100 }, since: 0, at: 119_999, status: 'pending', compared: false },
    { name: 'first bad sample starts the for window', rule: slowRule, green: { requests: 100, p95: 900 }, blue: { requests: 100 }, since: null, at: 50_000, status: 'pending', compared: false },
    { name: 'metric missing: no data', rule: slowRule, green: { requests: 100 }, blue: { requests: 100 }, status: 'no_data', compared: false },
    { name: '< rule: lower is worse', rule: floorRule, green: { requests: 100, errorRate: 0.1 }, blue: { requests: 100, errorRate: 0.3 }, status: 'breached', compared: true },
    { name: '< rule: blue as low is excused', rule: floorRule, green: { requests: 100, errorRate: 0.1 }, blue: { requests: 100, errorRate: 0.15 }, status: 'excused', compared: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { evaluation } = evaluateRule(c.rule, observe(c.at ?? 10_000, c.green, c.blue), 30, c.since === undefined ? undefined : { breachSince: c.since });
      assert.equal(evaluation.status, c.status);
      assert.equal(evaluation.comparedWithBlue, c.compared);
    });
  }

  it('no data keeps a pending breach; ok and excused clear it', () => {
    const bad = evaluateRule(slowRule, observe(10_000, { requests: 100, p95: 900 }, { requests: 100 }), 30, undefined);
    assert.equal(bad.track.breachSince, 10_000);
    const gap = evaluateRule(slowRule, observe(20_000, { requests: 100 }, { requests: 100 }), 30, bad.track);
    assert.equal(gap.evaluation.status, 'no_data');
    assert.equal(gap.track.breachSince, 10_000);
    const good = evaluateRule(slowRule, observe(30_000, { requests: 100, p95: 100 }, { requests: 100 }), 30, gap.track);
    assert.equal(good.track.breachSince, null);
  });
});
