import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RuleTrack } from '../../src/rollout/decision.types.js';
import type { Rule } from '../../src/rollout/plan.schema.js';
import { evaluateRule, type RuleContext } from '../../src/rollout/rules.core.js';
import { normalQuantile } from '../../src/rollout/stats.core.js';
import { buildWindow, type WindowSpec } from './helpers/decision-sim.js';

const errorRule: Rule = { name: 'err', metric: 'error_rate', op: '>', threshold: 0.01, forMs: 0, action: 'rollback', compareWithBlue: { margin: 0.005 }, query: null };
const slowRule: Rule = { name: 'slow', metric: 'p95_latency_ms', op: '>', threshold: 500, forMs: 120_000, action: 'rollback', compareWithBlue: null, query: null };
const sessionRule: Rule = { name: 'sessions', metric: 'session_failure_rate', op: '>', threshold: 0.1, forMs: 0, action: 'rollback', compareWithBlue: { margin: 0.02 }, query: null };
const floorRule: Rule = { name: 'floor', metric: 'error_rate', op: '<', threshold: 0.5, forMs: 0, action: 'pause', compareWithBlue: { margin: 0.1 }, query: null };

/** z for a 1e-6 error per look, 95 % against blue, 80 % to pass: the order of the default plan's. */
const ctx: RuleContext = { minSamples: 30, z: normalQuantile(1 - 1e-6), blueZ: normalQuantile(0.95), passZ: normalQuantile(0.8), confidence: 1 - 1e-6, blueConfidence: 0.95 };

function observe(at: number, green: WindowSpec, blue: WindowSpec) {
  return { at, windowMs: 60_000, green: buildWindow(green), blue: buildWindow(blue) };
}

describe('evaluateRule', () => {
  // Rate rules judge Wilson bounds, so the counts below are large enough to be conclusive (issue 13).
  const cases: { name: string; rule: Rule; green: WindowSpec; blue: WindowSpec; since?: number | null; at?: number; status: string; compared: boolean }[] = [
    { name: 'inside threshold, conclusively', rule: errorRule, green: { requests: 2000, errorRate: 0.002 }, blue: { requests: 2000 }, status: 'ok', compared: true },
    { name: 'inside threshold on too little evidence: not yet conclusive', rule: errorRule, green: { requests: 100, errorRate: 0.005 }, blue: { requests: 100 }, status: 'insufficient', compared: false },
    { name: 'at the threshold: neither breached nor passed', rule: errorRule, green: { requests: 10_000, errorRate: 0.01 }, blue: { requests: 100 }, status: 'insufficient', compared: false },
    { name: 'over threshold and worse than blue', rule: errorRule, green: { requests: 1000, errorRate: 0.05 }, blue: { requests: 1000, errorRate: 0.01 }, status: 'breached', compared: true },
    { name: 'over threshold but blue as bad (within margin)', rule: errorRule, green: { requests: 1000, errorRate: 0.05 }, blue: { requests: 1000, errorRate: 0.048 }, status: 'excused', compared: true },
    { name: 'over threshold, blue bad but beyond margin with 95 % confidence', rule: errorRule, green: { requests: 20_000, errorRate: 0.05 }, blue: { requests: 20_000, errorRate: 0.03 }, status: 'breached', compared: true },
    { name: 'over threshold, blue bad, difference not significant: excused', rule: errorRule, green: { requests: 1000, errorRate: 0.05 }, blue: { requests: 1000, errorRate: 0.04 }, status: 'excused', compared: true },
    { name: 'blue below minSamples: green judged alone', rule: errorRule, green: { requests: 1000, errorRate: 0.05 }, blue: { requests: 5, errorRate: 0.05 }, status: 'breached', compared: false },
    { name: 'one 5xx in 30 requests is not evidence (it used to roll back)', rule: errorRule, green: { requests: 30, errorRate: 1 / 30 }, blue: { requests: 270, errorRate: 0 }, status: 'insufficient', compared: false },
    { name: 'compare disabled', rule: slowRule, green: { requests: 100, p95: 900 }, blue: { requests: 100, p95: 900 }, since: 0, at: 120_000, status: 'breached', compared: false },
    { name: 'latency below its 100-event minimum is not judged', rule: slowRule, green: { requests: 99, p95: 900 }, blue: { requests: 100, p95: 100 }, since: 0, at: 120_000, status: 'insufficient', compared: false },
    { name: 'for window not yet elapsed', rule: slowRule, green: { requests: 100, p95: 900 }, blue: { requests: 100, p95: 100 }, since: 0, at: 119_999, status: 'pending', compared: false },
    { name: 'first bad sample starts the for window', rule: slowRule, green: { requests: 100, p95: 900 }, blue: { requests: 100 }, since: null, at: 50_000, status: 'pending', compared: false },
    { name: 'per-request metric missing while green has traffic: analysis error', rule: slowRule, green: { requests: 100 }, blue: { requests: 100 }, status: 'error', compared: false },
    { name: 'session metric absent (no logins): no data, not an error', rule: sessionRule, green: { requests: 100 }, blue: { requests: 100 }, status: 'no_data', compared: false },
    { name: 'green served nothing: insufficient', rule: errorRule, green: { requests: 0 }, blue: { requests: 100 }, status: 'insufficient', compared: false },
    { name: '< rule: lower is worse', rule: floorRule, green: { requests: 1000, errorRate: 0.1 }, blue: { requests: 1000, errorRate: 0.3 }, status: 'breached', compared: true },
    { name: '< rule: blue as low is excused', rule: floorRule, green: { requests: 1000, errorRate: 0.1 }, blue: { requests: 1000, errorRate: 0.15 }, status: 'excused', compared: true },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { evaluation } = evaluateRule(c.rule, observe(c.at ?? 10_000, c.green, c.blue), ctx, c.since === undefined ? undefined : { breachSince: c.since });
      assert.equal(evaluation.status, c.status);
      assert.equal(evaluation.comparedWithBlue, c.compared);
    });
  }

  it('an analysis error or no data keeps a pending breach; ok clears it', () => {
    const bad = evaluateRule(slowRule, observe(10_000, { requests: 100, p95: 900 }, { requests: 100 }), ctx, undefined);
    assert.equal(bad.track.breachSince, 10_000);
    const gap = evaluateRule(slowRule, observe(20_000, { requests: 100 }, { requests: 100 }), ctx, bad.track);
    assert.equal(gap.evaluation.status, 'error');
    assert.match(gap.evaluation.error ?? '', /no series for p95_latency_ms/);
    assert.equal(gap.track.breachSince, 10_000);
    const good = evaluateRule(slowRule, observe(30_000, { requests: 100, p95: 100 }, { requests: 100 }), ctx, gap.track);
    assert.equal(good.track.breachSince, null);
  });

  it('pools disjoint windows over the step: weak windows add up to evidence', () => {
    // 3 % errors over 200 requests is not significant in one window; six disjoint windows are.
    let track: RuleTrack | undefined;
    const statuses: string[] = [];
    for (let i = 1; i <= 7; i++) {
      const r = evaluateRule(errorRule, observe(i * 60_000, { requests: 200, errorRate: 0.03 }, { requests: 2000, errorRate: 0.001 }), ctx, track);
      track = r.track;
      statuses.push(r.evaluation.status);
      if (i === 7) assert.equal(r.evaluation.stats?.samples, 1400);
    }
    assert.equal(statuses[0], 'insufficient');
    assert.equal(statuses.at(-1), 'breached');
  });

  it('overlapping windows are never counted twice', () => {
    let track: RuleTrack | undefined;
    let samples = 0;
    // Six evaluations 10 s apart over 60 s windows: all overlap the first, so the step holds one window.
    for (let i = 0; i < 6; i++) {
      const r = evaluateRule(errorRule, observe(60_000 + i * 10_000, { requests: 200, errorRate: 0 }, { requests: 2000 }), ctx, track);
      track = r.track;
      samples = r.evaluation.stats?.samples ?? -1;
    }
    assert.equal(samples, 200);
  });

  it('a window that breaches alone reports its own evidence, not the step\'s', () => {
    // A clean step, then one bad window: the window's bound is past 1 %, the step's pooled one
    // (40 errors in 10 200) is not. The decision rests on the window, and so must the figures
    // the dashboard and the report show: a breach whose recorded bound sits inside the threshold
    // reads as a rollback without evidence (a rollout e2e test caught it under load).
    let track: RuleTrack | undefined;
    for (let i = 1; i <= 5; i++) track = evaluateRule(errorRule, observe(i * 60_000, { requests: 2000, errorRate: 0 }, { requests: 2000, errorRate: 0.001 }), ctx, track).track;
    const { evaluation } = evaluateRule(errorRule, observe(6 * 60_000, { requests: 200, errorRate: 0.2 }, { requests: 2000, errorRate: 0.001 }), ctx, track);
    assert.equal(evaluation.status, 'breached');
    const stats = evaluation.stats!;
    assert.equal(stats.samples, 200);
    assert.ok(stats.estimate !== null && Math.abs(stats.estimate - 0.2) < 1e-9, `estimate ${stats.estimate}`);
    assert.ok(stats.bound !== null && stats.bound > 0.01, `bound ${stats.bound}`);
  });

  it('records the statistics and why for the dashboard', () => {
    const { evaluation } = evaluateRule(errorRule, observe(60_000, { requests: 1000, errorRate: 0.05 }, { requests: 1000, errorRate: 0.01 }), ctx, undefined);
    const stats = evaluation.stats;
    assert.ok(stats);
    assert.equal(stats.samples, 1000);
    assert.equal(stats.blueSamples, 1000);
    assert.equal(stats.minSamples, 30);
    assert.ok(stats.bound !== null && stats.bound > 0.01 && stats.bound < 0.05, `bound ${stats.bound}`);
    assert.ok(stats.blueDiffBound !== null && stats.blueDiffBound > 0.005);
    assert.match(evaluation.why ?? '', /worse than blue by more than 0.5%/);
  });
});
