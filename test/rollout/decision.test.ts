import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_PLAN, loadPlan } from '../../src/rollout/plan.core.js';
import type { Plan } from '../../src/rollout/plan.schema.js';
import { DecisionSim } from './helpers/decision-sim.js';

const MIN = 60_000;
const healthy = { requests: 200, errorRate: 0.001, p95: 80 };
const blueOk = { requests: 1000, errorRate: 0.001, p95: 80 };

function plan(yaml: string): Plan {
  const result = loadPlan(yaml);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.plan;
}

const fast = plan(`
interval: 10s
minSamples: 30
steps:
  - { weight: 10, duration: 1m }
  - { weight: 50, duration: 1m }
  - { weight: 100 }
bake: { duration: 5m, interval: 1m }
`);

describe('decision core: progression', () => {
  it('promotes a healthy green through every default step, then bakes 2h with deep health each minute', () => {
    const sim = new DecisionSim(DEFAULT_PLAN);
    sim.startHealthy();
    sim.run(5 * 3_600_000, healthy, blueOk);
    assert.equal(sim.state.phase, 'promoted');
    // Issue 13 (seed timing): a 0 % hold first.
    assert.deepEqual(sim.weights, [0, 10, 25, 50, 75, 100]);
    assert.deepEqual(sim.actions.at(-1), { type: 'finish', outcome: 'promoted' });
    // One probe at each of the five step entries before the bake, then the bake's (issue 13: deep health at every step).
    const probes = sim.count('probe_health');
    assert.ok(probes >= 125 && probes <= 127, `probes: ${probes}`);
    // The bake lasted its configured 2h, no less.
    const bake = sim.decisions.find((d) => d.kind === 'bake_started');
    const done = sim.decisions.find((d) => d.kind === 'complete');
    assert.ok(bake && done && done.at - bake.at >= 2 * 3_600_000);
    assert.deepEqual(sim.notified, ['start', 'step', 'step', 'step', 'step', 'step', 'step', 'complete']);
  });

  it('never leaves a step before its duration', () => {
    const sim = new DecisionSim(fast);
    sim.startHealthy();
    sim.run(50_000, healthy, blueOk);
    assert.deepEqual(sim.weights, [10]);
    sim.run(10_000, healthy, blueOk);
    assert.deepEqual(sim.weights, [10, 50]);
  });

  it('does not start the step clock until the router confirms the weight', () => {
    const sim = new DecisionSim(fast);
    sim.autoAckWeights = false;
    sim.startHealthy();
    sim.run(5 * MIN, healthy, blueOk);
    assert.deepEqual(sim.weights, [10]);
    assert.match(sim.state.lastDecision?.message ?? '', /waiting for the traffic router to confirm 10%/);
  });

  it('a failed preflight never sends green traffic', () => {
    const sim = new DecisionSim(fast);
    sim.send({ type: 'start' });
    sim.send({ type: 'preflight_result', ok: false, failures: ['green /api/health/deep: 503'] });
    assert.equal(sim.state.phase, 'aborted');
    assert.deepEqual(sim.weights, []);
    assert.equal(sim.count('rollback'), 0);
    assert.deepEqual(sim.actions.at(-1), { type: 'finish', outcome: 'aborted' });
  });
});

describe('decision core: minSamples', () => {
  it('holds with "insufficient data", never passes a step on nothing, and pauses at the progress deadline', () => {
    const sim = new DecisionSim(fast);
    sim.startHealthy();
    sim.run(2 * MIN, { requests: 4, errorRate: 0, p95: 50 }, blueOk);
    assert.deepEqual(sim.weights, [10]);
    assert.equal(sim.state.phase, 'progressing');
    assert.equal(sim.state.lastDecision?.kind, 'insufficient_data');
    assert.match(sim.state.lastDecision?.message ?? '', /green has 4 requests .* of 30 events needed this step.*holding at 10%/);
    // Issue 13: never an endless hold; 3 × the 1m step later it pauses with the reason.
    sim.run(2 * MIN, { requests: 4, errorRate: 0, p95: 50 }, blueOk);
    assert.deepEqual(sim.weights, [10]);
    assert.equal(sim.state.phase, 'paused');
    assert.equal(sim.state.pauseReason, 'insufficient_traffic');
    assert.equal(sim.notified.filter((e) => e === 'stuck').length, 1);
  });

  it('never fails on nothing either: 100% errors over 5 requests does not roll back', () => {
    const sim = new DecisionSim(fast);
    sim.startHealthy();
    sim.run(5 * MIN, { requests: 5, errorRate: 1 }, blueOk);
    assert.equal(sim.count('rollback'), 0);
  });

  it('advances once the step has pooled enough events (100 for the p95 rule)', () => {
    const sim = new DecisionSim(fast);
    sim.startHealthy();
    sim.run(2 * MIN, { requests: 10, p95: 50 }, blueOk);
    assert.deepEqual(sim.weights, [10]);
    sim.run(10_000, { requests: 100, errorRate: 0, p95: 50 }, blueOk);
    assert.deepEqual(sim.weights, [10, 50]);
  });
});

describe('decision core: rules', () => {
  // Issue 13: a rule breaches on significant evidence, no longer on one bad window (values are clearly bad here).
  const ruleCases: { name: string; green: Record<string, number>; action: 'rollback' | 'pause' }[] = [
    { name: 'error rate > 1%', green: { errorRate: 0.05 }, action: 'rollback' },
    { name: 'db errors > 5%', green: { dbErrorRate: 0.2 }, action: 'rollback' },
    { name: 'session-creation failures > 10%', green: { sessionFailureRate: 0.35 }, action: 'rollback' },
    { name: 'auth failures > 5%', green: { authFailureRate: 0.2 }, action: 'pause' },
  ];
  for (const c of ruleCases) {
    it(`default plan: ${c.name} → ${c.action} at the first evaluation with significant evidence`, () => {
      const sim = new DecisionSim(DEFAULT_PLAN);
      sim.startHealthy();
      sim.run(6 * MIN, healthy, blueOk);
      assert.deepEqual(sim.weights, [0, 10]);
      sim.run(10_000, { ...healthy, ...c.green }, { ...blueOk, sessionFailureRate: 0 });
      if (c.action === 'rollback') {
        assert.equal(sim.state.phase, 'rolled_back');
        // No firstErrorAt from the source: the bad window's start.
        assert.equal(sim.state.detection?.firstBadAt, (sim.state.detection?.decidedAt ?? 0) - DEFAULT_PLAN.windowMs);
        assert.equal(sim.weights.at(-1), 10, 'rollback is its own action, not a weight step');
        assert.equal(sim.count('rollback'), 1);
      } else {
        assert.equal(sim.state.phase, 'paused');
        assert.equal(sim.state.pauseReason, 'rule');
        assert.equal(sim.count('rollback'), 0);
      }
    });
  }

  it('p95 > 500ms rolls back only after it held for the whole 2m, within one interval of the window', () => {
    const sim = new DecisionSim(DEFAULT_PLAN);
    sim.startHealthy();
    sim.run(6 * MIN, healthy, blueOk);
    const firstBadEvaluation = sim.now + DEFAULT_PLAN.intervalMs;
    sim.run(110_000, { ...healthy, p95: 900 }, blueOk);
    assert.equal(sim.state.phase, 'progressing', 'not before 2m');
    assert.equal(sim.count('rollback'), 0);
    sim.run(20_000, { ...healthy, p95: 900 }, blueOk);
    assert.equal(sim.state.phase, 'rolled_back');
    const detection = sim.state.detection;
    assert.ok(detection);
    // Issue 13: detection counts from the first bad window's start, not the first bad evaluation.
    assert.equal(detection.firstBadAt, firstBadEvaluation - DEFAULT_PLAN.windowMs);
    assert.equal(detection.decidedAt - firstBadEvaluation, 120_000);
    assert.equal(detection.rule, 'p95-latency');
  });

  it('one good evaluation inside the for window restarts it', () => {
    const sim = new DecisionSim(DEFAULT_PLAN);
    sim.startHealthy();
    sim.run(6 * MIN, healthy, blueOk);
    sim.run(100_000, { ...healthy, p95: 900 }, blueOk);
    sim.run(10_000, healthy, blueOk);
    sim.run(120_000, { ...healthy, p95: 900 }, blueOk);
    assert.equal(sim.count('rollback'), 0, 'the earlier bad minutes do not count');
    sim.run(10_000, { ...healthy, p95: 900 }, blueOk);
    assert.equal(sim.count('rollback'), 1);
  });

  it('a slow step is held, not advanced, while a for window is pending', () => {
    const sim = new DecisionSim(plan('steps: [{weight: 10, duration: 30s}, {weight: 100}]\nrules: [{metric: p95_latency_ms, op: ">", threshold: 500ms, for: 2m, action: rollback}]'));
    sim.startHealthy();
    sim.run(60_000, { ...healthy, p95: 900 }, blueOk);
    assert.deepEqual(sim.weights, [10]);
    assert.equal(sim.state.lastDecision?.kind, 'hold');
  });

  it('compare-with-blue: green as bad as blue is excused and held, then pauses as stuck at the progress deadline', () => {
    const sim = new DecisionSim(fast);
    sim.startHealthy();
    sim.run(2 * MIN, { ...healthy, errorRate: 0.05 }, { ...blueOk, errorRate: 0.05 });
    assert.equal(sim.count('rollback'), 0);
    assert.deepEqual(sim.weights, [10]);
    const last = sim.state.lastDecision;
    assert.equal(last?.kind, 'hold');
    assert.equal(last?.evaluations?.find((e) => e.metric === 'error_rate')?.status, 'excused');
    // Issue 13: no endless hold (3 × the 1m step).
    sim.run(2 * MIN, { ...healthy, errorRate: 0.05 }, { ...blueOk, errorRate: 0.05 });
    assert.equal(sim.state.phase, 'paused');
    assert.equal(sim.state.pauseReason, 'stuck');
    assert.deepEqual(sim.notified.filter((e) => e === 'stuck'), ['stuck']);
    assert.equal(sim.count('rollback'), 0);
  });

  it('compare-with-blue: when blue is healthy the same green rate rolls back (once the step evidence is significant)', () => {
    const sim = new DecisionSim(fast);
    sim.startHealthy();
    sim.run(3 * MIN, { ...healthy, errorRate: 0.03 }, blueOk);
    assert.equal(sim.state.phase, 'rolled_back');
    const rule = sim.decisions.find((d) => d.kind === 'rollback')?.rule;
    assert.equal(rule?.green?.value, 0.03);
    assert.equal(rule?.blue?.value, 0.001);
    assert.equal(rule?.green?.samples, 200);
  });

  it('compare-with-blue: too little blue traffic means green is judged alone', () => {
    const sim = new DecisionSim(fast);
    sim.startHealthy();
    sim.run(3 * MIN, { ...healthy, errorRate: 0.03 }, { requests: 3, errorRate: 0.03 });
    assert.equal(sim.state.phase, 'rolled_back');
    assert.equal(sim.decisions.find((d) => d.kind === 'rollback')?.rule?.comparedWithBlue, false);
  });

  it('rules keep watching during bake: a bad green at 100% rolls back', () => {
    const sim = new DecisionSim(fast);
    sim.startHealthy();
    sim.run(3 * MIN, healthy, blueOk);
    assert.equal(sim.state.phase, 'baking');
    sim.run(10_000, { ...healthy, errorRate: 0.2 }, { requests: 0 });
    assert.equal(sim.state.phase, 'rolled_back');
  });

  it('a failed deep health during bake rolls back', () => {
    const sim = new DecisionSim(fast);
    sim.startHealthy();
    sim.run(3 * MIN, healthy, blueOk);
    assert.equal(sim.state.phase, 'baking');
    sim.healthOk = false;
    sim.run(2 * MIN, healthy, { requests: 0 });
    assert.equal(sim.state.phase, 'rolled_back');
    assert.match(sim.decisions.find((d) => d.kind === 'rollback')?.message ?? '', /deep health of green failed/);
  });
});

describe('decision core: rollback: freeze', () => {
  const frozen = plan(`rollback: freeze\nsteps: [{weight: 10, duration: 1m}, {weight: 100}]\n`);

  it('pauses at the current weight instead of rolling back', () => {
    const sim = new DecisionSim(frozen);
    sim.startHealthy();
    sim.run(30_000, { ...healthy, errorRate: 0.2 }, blueOk);
    assert.equal(sim.state.phase, 'paused');
    assert.equal(sim.state.pauseReason, 'freeze');
    assert.equal(sim.state.weight, 10);
    assert.equal(sim.count('rollback'), 0);
    assert.equal(sim.actions.filter((a) => a.type === 'notify' && a.event === 'pause').length, 1, 'notified once, not every tick');
  });

  it('an operator rollback still rolls back', () => {
    const sim = new DecisionSim(frozen);
    sim.startHealthy();
    sim.run(30_000, { ...healthy, errorRate: 0.2 }, blueOk);
    sim.send({ type: 'command', command: 'rollback', by: 'ops' });
    assert.equal(sim.state.phase, 'rolled_back');
    assert.equal(sim.state.detection?.firstBadAt, null);
  });
});

describe('decision core: commands and gates', () => {
  it('pause holds the weight through the step duration; resume restarts the step clock', () => {
    const sim = new DecisionSim(fast);
    sim.startHealthy();
    sim.run(30_000, healthy, blueOk);
    sim.send({ type: 'command', command: 'pause' });
    sim.run(5 * MIN, healthy, blueOk);
    assert.deepEqual(sim.weights, [10]);
    sim.send({ type: 'command', command: 'resume' });
    sim.run(50_000, healthy, blueOk);
    assert.deepEqual(sim.weights, [10], 'the step restarted on resume');
    sim.run(10_000, healthy, blueOk);
    assert.deepEqual(sim.weights, [10, 50]);
  });

  it('a rollback rule still fires while paused', () => {
    const sim = new DecisionSim(fast);
    sim.startHealthy();
    sim.send({ type: 'command', command: 'pause' });
    sim.run(10_000, { ...healthy, errorRate: 0.5 }, blueOk);
    assert.equal(sim.state.phase, 'rolled_back');
  });

  it('a pause rule pauses once, then resume continues', () => {
    const sim = new DecisionSim(DEFAULT_PLAN);
    sim.startHealthy();
    sim.run(6 * MIN, healthy, blueOk);
    sim.run(10_000, { ...healthy, authFailureRate: 0.2 }, blueOk);
    sim.run(60_000, { ...healthy, authFailureRate: 0.2 }, blueOk);
    assert.equal(sim.actions.filter((a) => a.type === 'notify' && a.event === 'pause').length, 1);
    sim.send({ type: 'command', command: 'resume', by: 'alice' });
    sim.run(10 * MIN, healthy, blueOk);
    assert.deepEqual(sim.weights, [0, 10, 25]);
  });

  it('a manual gate waits after its step until resume', () => {
    const sim = new DecisionSim(plan('steps: [{weight: 10, duration: 1m, gate: manual}, {weight: 30, duration: 1m}, {weight: 100}]'));
    sim.startHealthy();
    sim.run(10 * MIN, healthy, blueOk);
    assert.deepEqual(sim.weights, [10]);
    assert.equal(sim.state.pauseReason, 'manual_gate');
    sim.send({ type: 'command', command: 'resume' });
    assert.deepEqual(sim.weights, [10, 30]);
  });

  it('promote skips to 100% and bakes; promote during bake completes', () => {
    const sim = new DecisionSim(fast);
    sim.startHealthy();
    sim.send({ type: 'command', command: 'promote' });
    assert.deepEqual(sim.weights, [10, 100]);
    assert.equal(sim.state.phase, 'baking');
    sim.send({ type: 'command', command: 'promote' });
    assert.equal(sim.state.phase, 'promoted');
  });

  it('abort moves everything to blue through a verified rollback and ends aborted', () => {
    const sim = new DecisionSim(fast);
    sim.startHealthy();
    sim.run(MIN, healthy, blueOk);
    sim.send({ type: 'command', command: 'abort', by: 'ops' });
    assert.equal(sim.count('rollback'), 1);
    assert.equal(sim.state.phase, 'aborted');
    assert.deepEqual(sim.actions.at(-1), { type: 'finish', outcome: 'aborted' });
  });

  it('rollback stays in rolling_back until verified, and retries after a traffic failure', () => {
    const sim = new DecisionSim(fast);
    sim.autoVerifyRollback = false;
    sim.startHealthy();
    sim.run(10_000, { ...healthy, errorRate: 0.5 }, blueOk);
    assert.equal(sim.state.phase, 'rolling_back');
    assert.equal(sim.count('rollback'), 1);
    sim.send({ type: 'traffic_failed', weight: 0, error: 'ECONNREFUSED' });
    assert.equal(sim.state.phase, 'rolling_back');
    sim.run(10_000, healthy, blueOk);
    assert.equal(sim.count('rollback'), 2, 'retried at the next evaluation');
    sim.now += 500;
    sim.send({ type: 'rollback_verified', blueHealthy: true, detail: 'ok' });
    assert.equal(sim.state.phase, 'rolled_back');
    const d = sim.state.detection;
    assert.ok(d && d.verifiedAt !== null);
    assert.equal(d.verifiedAt - d.decidedAt, 10_500);
  });

  it('a traffic failure pauses; resume re-applies the weight', () => {
    const sim = new DecisionSim(fast);
    sim.weightFails = true;
    sim.startHealthy();
    assert.equal(sim.state.phase, 'paused');
    assert.equal(sim.state.pauseReason, 'traffic');
    sim.weightFails = false;
    sim.send({ type: 'command', command: 'resume' });
    assert.equal(sim.state.phase, 'progressing');
    assert.equal(sim.state.weightConfirmed, true);
  });

  const rejected: { name: string; setup: (sim: DecisionSim) => void; command: 'pause' | 'resume' | 'promote' | 'abort' | 'rollback' }[] = [
    { name: 'resume when not paused', setup: (s) => s.startHealthy(), command: 'resume' },
    { name: 'rollback after promotion', setup: (s) => { s.startHealthy(); s.send({ type: 'command', command: 'promote' }); s.send({ type: 'command', command: 'promote' }); }, command: 'rollback' },
    { name: 'pause before start', setup: () => undefined, command: 'pause' },
  ];
  for (const c of rejected) {
    it(`rejects ${c.name} with an explanation`, () => {
      const sim = new DecisionSim(fast);
      c.setup(sim);
      const phase = sim.state.phase;
      sim.send({ type: 'command', command: c.command });
      assert.equal(sim.state.phase, phase);
      assert.equal(sim.state.lastDecision?.kind, 'rejected');
    });
  }
});

describe('decision core: fail closed (issue 13)', () => {
  const metrics404 = 'scrape green http://127.0.0.1:3001/metrics: HTTP 404';

  it('metric-source errors: no advance, then a pause with analysis_error at the 4th evaluation in a row', () => {
    const sim = new DecisionSim(fast);
    sim.startHealthy();
    sim.sourceErrors = [metrics404];
    sim.run(30_000, healthy, blueOk);
    assert.equal(sim.state.phase, 'progressing');
    assert.equal(sim.state.lastDecision?.kind, 'analysis_error');
    assert.match(sim.state.lastDecision?.message ?? '', /analysis error 3\/4 .*HTTP 404/);
    sim.run(5 * MIN, healthy, blueOk);
    assert.equal(sim.state.phase, 'paused');
    assert.equal(sim.state.pauseReason, 'analysis_error');
    assert.deepEqual(sim.weights, [10], 'never advanced on evaluations with errors');
    assert.deepEqual(sim.notified.filter((e) => e === 'analysis_error'), ['analysis_error']);
    assert.deepEqual(sim.decisions.find((d) => d.kind === 'analysis_error' && d.phase === 'paused')?.errors, [metrics404]);
  });

  it('a per-request metric with no series while green has traffic is an analysis error', () => {
    const sim = new DecisionSim(fast);
    sim.startHealthy();
    sim.run(5 * MIN, { requests: 200, errorRate: 0.001 }, blueOk);
    assert.equal(sim.state.pauseReason, 'analysis_error');
    assert.match(sim.state.lastDecision?.errors?.join(' ') ?? '', /no series for p95_latency_ms/);
    assert.deepEqual(sim.weights, [10]);
  });

  it('never advances on an evaluation with an error, even one', () => {
    const sim = new DecisionSim(fast);
    sim.startHealthy();
    sim.run(50_000, healthy, blueOk);
    sim.sourceErrors = ['prometheus: timeout'];
    sim.run(10_000, healthy, blueOk);
    assert.deepEqual(sim.weights, [10], 'the step was due but the evaluation had an error');
    sim.sourceErrors = [];
    sim.run(10_000, healthy, blueOk);
    assert.deepEqual(sim.weights, [10, 50]);
  });

  it('analysis.onError: rollback rolls back at the limit', () => {
    const sim = new DecisionSim(plan('analysis: { consecutiveErrorLimit: 2, onError: rollback }\nsteps: [{weight: 10, duration: 1m}, {weight: 100}]'));
    sim.startHealthy();
    sim.sourceErrors = [metrics404];
    sim.run(20_000, healthy, blueOk);
    assert.equal(sim.state.phase, 'rolled_back');
    assert.ok(sim.notified.includes('analysis_error'));
  });

  it('no promotion at the end of the bake while evaluations have errors', () => {
    const sim = new DecisionSim(fast);
    sim.startHealthy();
    sim.run(3 * MIN, healthy, blueOk);
    assert.equal(sim.state.phase, 'baking');
    sim.run(3 * MIN, healthy, blueOk);
    sim.sourceErrors = ['prometheus: timeout'];
    sim.run(3 * MIN, healthy, blueOk);
    assert.equal(sim.state.phase, 'paused', 'past the bake, erroring evaluations pause instead of promoting');
    assert.equal(sim.state.pauseReason, 'analysis_error');
    sim.sourceErrors = [];
    sim.send({ type: 'command', command: 'resume' });
    sim.run(2 * MIN, healthy, blueOk);
    assert.equal(sim.state.phase, 'promoted');
  });
});

describe('decision core: seed semantics (issue 13)', () => {
  it('default timing: 0 % from T+0, then 10/25/50/75/100 % at T+5/15/30/45/60', () => {
    const sim = new DecisionSim(DEFAULT_PLAN);
    const t0 = sim.now;
    sim.startHealthy();
    sim.run(70 * MIN, healthy, blueOk);
    const applied = sim.decisions.filter((d) => d.kind === 'weight_applied' || d.kind === 'bake_started').map((d) => [d.weight, (d.at - t0) / MIN]);
    assert.deepEqual(applied, [[0, 0], [10, 5], [25, 15], [50, 30], [75, 45], [100, 60]]);
  });

  it('success criteria gate promotion: 0.43 % errors and p95 299 ms pause at the end of the bake', () => {
    const sim = new DecisionSim(fast);
    sim.startHealthy();
    const meh = { requests: 2000, errorRate: 0.0043, p95: 299 };
    sim.run(15 * MIN, meh, { ...blueOk, requests: 2000 });
    assert.equal(sim.state.phase, 'paused');
    assert.equal(sim.state.pauseReason, 'success_criteria');
    assert.match(sim.decisions.find((d) => d.kind === 'pause')?.message ?? '', /success criteria not met.*error_rate < 0.1%.*p95_latency_ms < 150ms/);
    assert.equal(sim.count('finish'), 0);
  });

  it('success criteria met: promoted, and an empty list disables them', () => {
    const sim = new DecisionSim(fast);
    sim.startHealthy();
    sim.run(15 * MIN, healthy, blueOk);
    assert.equal(sim.state.phase, 'promoted');
    const none = new DecisionSim(plan('successCriteria: []\nsteps: [{weight: 10, duration: 1m}, {weight: 100}]\nbake: { duration: 5m, interval: 1m }'));
    none.startHealthy();
    none.run(15 * MIN, { requests: 2000, errorRate: 0.0043, p95: 299 }, { ...blueOk, requests: 2000 });
    assert.equal(none.state.phase, 'promoted');
  });

  it("time to detect counts from the window's first failed request", () => {
    const sim = new DecisionSim(DEFAULT_PLAN);
    sim.startHealthy();
    sim.run(6 * MIN, healthy, blueOk);
    const firstErrorAt = sim.now - 25_000;
    sim.run(10_000, { ...healthy, errorRate: 0.05, firstErrorAt }, blueOk);
    assert.equal(sim.state.phase, 'rolled_back');
    assert.equal(sim.state.detection?.firstBadAt, firstErrorAt);
  });

  it('deep health at every step entry; a failing green at a step rolls back', () => {
    const sim = new DecisionSim(fast);
    sim.startHealthy();
    assert.equal(sim.count('probe_health'), 1);
    sim.run(MIN, healthy, blueOk);
    assert.deepEqual(sim.weights, [10, 50]);
    assert.equal(sim.count('probe_health'), 2);
    sim.healthOk = false;
    sim.run(MIN, healthy, blueOk);
    sim.run(10_000, healthy, blueOk);
    assert.equal(sim.state.phase, 'rolled_back');
    assert.match(sim.decisions.find((d) => d.kind === 'rollback')?.message ?? '', /deep health of green failed at 100%|deep health of green failed/);
  });
});

describe('decision core: rollback onto an unhealthy blue (issue 13)', () => {
  it('is refused: pause blue_unhealthy, rollback_failed; force overrides', () => {
    const sim = new DecisionSim(fast);
    sim.blueHealthOk = false;
    sim.startHealthy();
    sim.run(3 * MIN, { ...healthy, errorRate: 0.2 }, blueOk);
    assert.equal(sim.count('rollback'), 0);
    assert.equal(sim.state.phase, 'paused');
    assert.equal(sim.state.pauseReason, 'blue_unhealthy');
    assert.deepEqual(sim.notified.filter((e) => e === 'rollback_failed'), ['rollback_failed']);
    sim.send({ type: 'command', command: 'rollback', by: 'ops' });
    assert.equal(sim.count('rollback'), 0, 'an operator rollback without force is refused too');
    sim.send({ type: 'command', command: 'rollback', by: 'ops', force: true });
    assert.equal(sim.count('rollback'), 1);
    assert.equal(sim.state.phase, 'rolled_back');
    // Verified onto a blue whose deep health fails: reported as such.
    assert.deepEqual(sim.notified.filter((e) => e === 'rollback_failed'), ['rollback_failed', 'rollback_failed']);
  });

  it('knows at once when the router ejects blue mid-step (blue_health), not at the next step entry', () => {
    const sim = new DecisionSim(fast);
    sim.blueHealthOk = true;
    sim.startHealthy();
    sim.run(20_000, healthy, blueOk);
    assert.equal(sim.state.lastBlueOk, true, 'the step-entry probe saw a healthy blue');
    sim.send({ type: 'blue_health', ok: false, detail: 'http://blue ECONNREFUSED' });
    assert.equal(sim.state.lastBlueOk, false);
    sim.send({ type: 'command', command: 'rollback', by: 'ops' });
    assert.equal(sim.count('rollback'), 0, 'refused: the last word on blue is the router\'s "unhealthy"');
    assert.equal(sim.state.pauseReason, 'blue_unhealthy');
    assert.ok(sim.notified.includes('rollback_failed'));
  });

  it('green ejected at the router: a deep probe decides at once (its failure rolls back), at most one per interval', () => {
    const sim = new DecisionSim(fast);
    sim.startHealthy();
    sim.run(20_000, healthy, blueOk);
    const probes = sim.count('probe_health');
    sim.healthOk = false;
    sim.send({ type: 'green_ejected', detail: 'http://green ECONNREFUSED' });
    assert.equal(sim.count('probe_health'), probes + 1, 'probed at once, not at the next step entry');
    assert.equal(sim.state.phase, 'rolled_back');
    assert.match(sim.decisions.find((d) => d.kind === 'rollback')?.message ?? '', /deep health of green failed/);
  });

  it('green ejected but its deep health passes: no rollback, and no probe storm', () => {
    const sim = new DecisionSim(fast);
    sim.startHealthy();
    sim.run(20_000, healthy, blueOk);
    const probes = sim.count('probe_health');
    sim.send({ type: 'green_ejected', detail: 'slow readiness' });
    sim.send({ type: 'green_ejected', detail: 'slow readiness' });
    assert.equal(sim.count('probe_health'), probes + 1);
    assert.equal(sim.state.phase, 'progressing');
  });

  it('goes ahead once blue is healthy again', () => {
    const sim = new DecisionSim(fast);
    sim.blueHealthOk = false;
    sim.startHealthy();
    sim.run(3 * MIN, { ...healthy, errorRate: 0.2 }, blueOk);
    assert.equal(sim.state.pauseReason, 'blue_unhealthy');
    sim.blueHealthOk = true;
    sim.run(2 * MIN, { ...healthy, errorRate: 0.2 }, blueOk);
    assert.equal(sim.state.phase, 'rolled_back');
  });
});
