import { formatDuration } from './duration.core.js';
import type { NotifyEvent, Plan } from './plan.schema.js';
import { evaluateRule } from './rules.core.js';
import { formatMetric } from './format.core.js';
import type {
  Action,
  Command,
  Decision,
  DecisionKind,
  Input,
  Observation,
  Outcome,
  RolloutState,
  RuleEvaluation,
  RuleTrack,
  Transition,
} from './decision.types.js';

/** The state before `start`. */
export function createInitialState(): RolloutState {
  return {
    phase: 'pending',
    pauseReason: null,
    pausedFrom: null,
    stepIndex: -1,
    weight: 0,
    weightConfirmed: true,
    stepStartedAt: null,
    bakeStartedAt: null,
    lastProbeAt: null,
    probeInFlight: false,
    lastProbeOk: null,
    rules: {},
    startedAt: null,
    endedAt: null,
    outcome: null,
    rollbackOutcome: null,
    rollbackRetryDue: false,
    detection: null,
    lastDecision: null,
  };
}

/** Whether the rollout has ended (promoted, rolled back or aborted). */
export function isFinished(state: RolloutState): boolean {
  return state.phase === 'promoted' || state.phase === 'rolled_back' || state.phase === 'aborted';
}

/** The outcome to report if the controller stops now (e.g. the operator quits while paused). */
export function describeOutcomeIfStopped(state: RolloutState): Outcome {
  return state.outcome ?? (state.phase === 'paused' ? 'paused' : 'aborted');
}

/**
 * The rollout state machine: `(plan, state, input, now) → { state, actions }`. Pure: it never
 * reads a clock, a socket or a file; the controller executes the returned actions and feeds
 * their results back as inputs (`weight_applied`, `health_result`, `rollback_verified`, …).
 * See docs/rollout.md "Decision semantics" for the rules it implements.
 */
export function decide(plan: Plan, state: RolloutState, input: Input, now: number): Transition {
  const t = new TransitionBuilder(plan, state, now);
  switch (input.type) {
    case 'start': onStart(t); break;
    case 'preflight_result': onPreflight(t, input.ok, input.failures); break;
    case 'weight_applied': onWeightApplied(t, input.weight); break;
    case 'traffic_failed': onTrafficFailed(t, input.weight, input.error); break;
    case 'observe': onObserve(t, input.observation); break;
    case 'health_result': onHealth(t, input.ok, input.detail); break;
    case 'command': onCommand(t, input.command, input.by); break;
    case 'rollback_verified': onRollbackVerified(t, input.blueHealthy, input.detail, input.weightVerifiedAt ?? now); break;
  }
  return t.build();
}

/** Accumulates the next state and the actions for one transition. */
class TransitionBuilder {
  readonly actions: Action[] = [];
  constructor(
    readonly plan: Plan,
    public state: RolloutState,
    readonly now: number,
  ) {}

  update(patch: Partial<RolloutState>): void {
    this.state = { ...this.state, ...patch };
  }

  record(kind: DecisionKind, message: string, extra: Partial<Decision> = {}): Decision {
    const decision: Decision = {
      at: this.now,
      kind,
      message,
      phase: this.state.phase,
      step: this.state.stepIndex,
      weight: this.state.weight,
      ...extra,
    };
    this.state = { ...this.state, lastDecision: decision };
    this.actions.push({ type: 'record', decision });
    return decision;
  }

  notify(event: NotifyEvent, decision: Decision): void {
    this.actions.push({ type: 'notify', event, summary: decision.message, decision });
  }

  build(): Transition {
    return { state: this.state, actions: this.actions };
  }
}

const ACTIVE = new Set(['preflight', 'progressing', 'paused', 'baking']);

function onStart(t: TransitionBuilder): void {
  if (t.state.phase !== 'pending') {
    t.record('rejected', `start ignored: the rollout is already ${t.state.phase}`);
    return;
  }
  t.update({ phase: 'preflight', startedAt: t.now });
  const d = t.record('started', `rollout started: ${t.plan.steps.map((s) => `${s.weight}%`).join(' → ')}, then bake ${formatDuration(t.plan.bake.durationMs)}`);
  t.notify('start', d);
  t.actions.push({ type: 'run_preflight' });
}

function onPreflight(t: TransitionBuilder, ok: boolean, failures: readonly string[]): void {
  if (t.state.phase !== 'preflight') return;
  if (!ok) {
    t.update({ phase: 'aborted', outcome: 'aborted', endedAt: t.now });
    const d = t.record('preflight_failed', `preflight failed, green never received traffic: ${failures.join('; ')}`);
    t.notify('complete', d);
    t.actions.push({ type: 'finish', outcome: 'aborted' });
    return;
  }
  t.update({ phase: 'progressing' });
  t.record('preflight_passed', 'preflight passed: both colors ready, green deep health and smoke suite ok');
  moveToStep(t, 0);
}

function moveToStep(t: TransitionBuilder, index: number): void {
  const step = t.plan.steps[index];
  if (!step) return;
  t.update({ stepIndex: index, weight: step.weight, weightConfirmed: false, stepStartedAt: null });
  t.actions.push({ type: 'set_weight', weight: step.weight });
}

function onWeightApplied(t: TransitionBuilder, weight: number): void {
  const s = t.state;
  if (s.phase === 'rolling_back' || !ACTIVE.has(s.phase) || weight !== s.weight || s.weightConfirmed) return;
  t.update({ weightConfirmed: true, stepStartedAt: t.now });
  const total = t.plan.steps.length;
  if (weight === 100 && s.phase === 'progressing') {
    t.update({ phase: 'baking', bakeStartedAt: t.now, lastProbeAt: null, lastProbeOk: null });
    const d = t.record('bake_started', `green at 100% (read back); baking ${formatDuration(t.plan.bake.durationMs)} with deep health every ${formatDuration(t.plan.bake.intervalMs)}, blue on standby`);
    t.notify('step', d);
    return;
  }
  const d = t.record('weight_applied', `step ${s.stepIndex + 1}/${total}: green at ${weight}% (read back)`);
  t.notify('step', d);
}

function onTrafficFailed(t: TransitionBuilder, weight: number, error: string): void {
  const s = t.state;
  if (s.phase === 'rolling_back') {
    t.update({ rollbackRetryDue: true });
    t.record('traffic_failed', `rollback to blue not confirmed (${error}); retrying at the next evaluation`);
    return;
  }
  if (!ACTIVE.has(s.phase)) return;
  pause(t, 'traffic', 'traffic_failed', `weight ${weight}% could not be applied or read back (${error}); paused, resume retries it`);
}

function pause(t: TransitionBuilder, reason: NonNullable<RolloutState['pauseReason']>, kind: DecisionKind, message: string, extra: Partial<Decision> = {}): void {
  const s = t.state;
  const from = s.phase === 'paused' ? s.pausedFrom : s.phase === 'baking' ? 'baking' : 'progressing';
  t.update({ phase: 'paused', pauseReason: reason, pausedFrom: from });
  const d = t.record(kind, message, extra);
  t.notify('pause', d);
}

function startRollback(t: TransitionBuilder, outcome: 'rolled_back' | 'aborted', reason: string, rule: RuleEvaluation | null, firstBadAt: number | null, extra: Partial<Decision> = {}): void {
  t.update({
    phase: 'rolling_back',
    rollbackOutcome: outcome,
    weight: 0,
    weightConfirmed: false,
    pauseReason: null,
    detection: { rule: rule?.rule ?? null, reason, firstBadAt, decidedAt: t.now, verifiedAt: null },
  });
  const d = t.record(outcome === 'aborted' ? 'abort' : 'rollback', reason, { ...extra, ...(rule ? { rule } : {}) });
  t.notify('rollback', d);
  t.actions.push({ type: 'rollback', reason });
}

function describeEvaluation(e: RuleEvaluation): string {
  const green = e.green ? formatMetric(e.metric, e.green.value) : 'n/a';
  const blue = e.blue ? ` (blue ${formatMetric(e.metric, e.blue.value)})` : '';
  return `${e.rule}: green ${green}${blue} ${e.op} ${formatMetric(e.metric, e.threshold)}`;
}

function onObserve(t: TransitionBuilder, obs: Observation): void {
  const s = t.state;
  if (s.phase === 'rolling_back') {
    if (s.rollbackRetryDue) {
      t.update({ rollbackRetryDue: false });
      t.actions.push({ type: 'rollback', reason: s.detection?.reason ?? 'rollback retry' });
    }
    return;
  }
  if (s.phase !== 'progressing' && s.phase !== 'paused' && s.phase !== 'baking') return;
  const window = { windowMs: obs.windowMs, greenRequests: obs.green.requests, blueRequests: obs.blue.requests };

  if (obs.green.requests < t.plan.minSamples) {
    t.record('insufficient_data', `insufficient data: green has ${obs.green.requests} requests in the last ${formatDuration(obs.windowMs)}, needs ${t.plan.minSamples}; holding at ${s.weight}%`, window);
    scheduleBakeProbe(t);
    return;
  }

  const evaluations: RuleEvaluation[] = [];
  const tracks: Record<string, RuleTrack> = {};
  for (const rule of t.plan.rules) {
    const { evaluation, track } = evaluateRule(rule, obs, t.plan.minSamples, s.rules[rule.name]);
    evaluations.push(evaluation);
    tracks[rule.name] = track;
  }
  t.update({ rules: tracks });
  const detail = { ...window, evaluations };
  const rollbackHit = evaluations.find((e) => e.status === 'breached' && e.action === 'rollback');
  const pauseHit = evaluations.find((e) => e.status === 'breached' && e.action === 'pause');

  if (rollbackHit) {
    const why = `${describeEvaluation(rollbackHit)}${rollbackHit.forMs > 0 ? ` for ${formatDuration(rollbackHit.forMs)}` : ''}`;
    if (t.plan.rollback === 'freeze') {
      if (s.phase === 'paused' && s.pauseReason === 'freeze') {
        t.record('hold', `frozen at ${s.weight}%: ${why} (rollback: freeze)`, { ...detail, rule: rollbackHit });
      } else {
        pause(t, 'freeze', 'freeze', `frozen at ${s.weight}% instead of rolling back (rollback: freeze): ${why}`, { ...detail, rule: rollbackHit });
      }
      return;
    }
    startRollback(t, 'rolled_back', `rule ${why}`, rollbackHit, rollbackHit.breachSince, detail);
    return;
  }
  if (pauseHit && s.phase !== 'paused') {
    pause(t, 'rule', 'pause', `paused for manual review: ${describeEvaluation(pauseHit)}`, { ...detail, rule: pauseHit });
    return;
  }
  if (s.phase === 'paused') {
    t.record('hold', `paused (${s.pauseReason ?? 'unknown'}) at ${s.weight}%: waiting for resume, promote, abort or rollback`, detail);
    return;
  }

  const doubts = evaluations.filter((e) => e.status === 'pending' || e.status === 'excused');
  const doubtText = doubts.map((e) => `${describeEvaluation(e)} [${e.status === 'excused' ? 'blue as bad, not green\'s fault' : `pending since ${formatDuration(t.now - (e.breachSince ?? t.now))}`}]`).join('; ');

  if (s.phase === 'baking') {
    const elapsed = s.bakeStartedAt === null ? 0 : t.now - s.bakeStartedAt;
    t.record(doubts.length ? 'hold' : 'healthy', `baking ${formatDuration(elapsed)} of ${formatDuration(t.plan.bake.durationMs)}${doubts.length ? `: ${doubtText}` : ': all rules ok'}`, detail);
    scheduleBakeProbe(t);
    return;
  }

  if (!s.weightConfirmed || s.stepStartedAt === null) {
    t.record('hold', `waiting for the traffic router to confirm ${s.weight}%`, detail);
    return;
  }
  const step = t.plan.steps[s.stepIndex];
  const elapsed = t.now - s.stepStartedAt;
  if (!step || elapsed < step.durationMs || doubts.length > 0) {
    const timing = step ? `${formatDuration(elapsed)} of ${formatDuration(step.durationMs)} at ${s.weight}%` : '';
    t.record(doubts.length ? 'hold' : 'healthy', doubts.length ? `holding (${timing}): ${doubtText}` : `healthy (${timing})`, detail);
    return;
  }
  if (step.gate === 'manual') {
    pause(t, 'manual_gate', 'gate', `step ${s.stepIndex + 1} passed at ${s.weight}%; manual gate: waiting for \`boka rollout resume\``, detail);
    return;
  }
  const next = t.plan.steps[s.stepIndex + 1];
  t.record('advance', `step ${s.stepIndex + 1} passed at ${s.weight}% (all rules ok for ${formatDuration(elapsed)}); advancing to ${next?.weight ?? 100}%`, detail);
  moveToStep(t, s.stepIndex + 1);
}

function scheduleBakeProbe(t: TransitionBuilder): void {
  const s = t.state;
  if (s.phase !== 'baking' || !s.weightConfirmed || s.probeInFlight || s.bakeStartedAt === null) return;
  const bakeOver = t.now - s.bakeStartedAt >= t.plan.bake.durationMs;
  const due = s.lastProbeAt === null || t.now - s.lastProbeAt >= t.plan.bake.intervalMs || bakeOver;
  if (!due) return;
  t.update({ probeInFlight: true, lastProbeAt: t.now });
  t.actions.push({ type: 'probe_health' });
}

function onHealth(t: TransitionBuilder, ok: boolean, detail: string): void {
  const s = t.state;
  t.update({ probeInFlight: false, lastProbeOk: ok });
  if (s.phase !== 'baking') {
    if (ACTIVE.has(s.phase)) t.record('bake_health', `deep health of green ${ok ? 'ok' : 'FAILED'}: ${detail}`);
    return;
  }
  if (!ok) {
    const reason = `deep health of green failed during bake: ${detail}`;
    if (t.plan.rollback === 'freeze') {
      pause(t, 'freeze', 'freeze', `frozen at 100% instead of rolling back (rollback: freeze): ${reason}`);
      return;
    }
    startRollback(t, 'rolled_back', reason, null, s.lastProbeAt ?? t.now);
    return;
  }
  const elapsed = s.bakeStartedAt === null ? 0 : t.now - s.bakeStartedAt;
  if (elapsed >= t.plan.bake.durationMs) {
    complete(t, `bake of ${formatDuration(t.plan.bake.durationMs)} finished with green healthy: promoted`);
    return;
  }
  t.record('bake_health', `deep health of green ok (${formatDuration(elapsed)} of ${formatDuration(t.plan.bake.durationMs)} baked): ${detail}`);
}

function complete(t: TransitionBuilder, message: string): void {
  t.update({ phase: 'promoted', outcome: 'promoted', endedAt: t.now, pauseReason: null });
  const d = t.record('complete', message);
  t.notify('complete', d);
  t.actions.push({ type: 'finish', outcome: 'promoted' });
}

function onCommand(t: TransitionBuilder, command: Command, by: string | undefined): void {
  const s = t.state;
  const who = by ? ` by ${by}` : '';
  const reject = (why: string) => t.record('rejected', `${command}${who} rejected: ${why}`);
  if (!ACTIVE.has(s.phase)) {
    reject(`the rollout is ${s.phase}`);
    return;
  }
  switch (command) {
    case 'pause':
      if (s.phase !== 'progressing' && s.phase !== 'baking') return void reject(`the rollout is ${s.phase}`);
      pause(t, 'command', 'pause', `paused${who} at ${s.weight}%`);
      return;
    case 'resume':
      if (s.phase !== 'paused') return void reject('the rollout is not paused');
      resume(t, who);
      return;
    case 'promote':
      if (s.phase === 'preflight') return void reject('preflight has not passed');
      if (s.phase === 'baking' || (s.phase === 'paused' && s.pausedFrom === 'baking')) {
        complete(t, `promoted${who} during bake (bake cut short)`);
        return;
      }
      t.update({ phase: 'progressing', pauseReason: null, pausedFrom: null });
      t.record('promote', `promoted${who}: skipping the remaining steps, green to 100% then bake`);
      moveToStep(t, t.plan.steps.length - 1);
      return;
    case 'abort':
    case 'rollback': {
      const outcome = command === 'abort' ? 'aborted' : 'rolled_back';
      if (s.phase === 'preflight') {
        t.update({ phase: 'aborted', outcome: 'aborted', endedAt: t.now });
        const d = t.record('abort', `${command}${who} during preflight: green never received traffic`);
        t.notify('complete', d);
        t.actions.push({ type: 'finish', outcome: 'aborted' });
        return;
      }
      // An operator's rollback is honoured even under `rollback: freeze`: freeze only stops automatic ones.
      startRollback(t, outcome, `${command === 'abort' ? 'aborted' : 'rollback requested'}${who} at ${s.weight}%`, null, null);
      return;
    }
  }
}

function resume(t: TransitionBuilder, who: string): void {
  const s = t.state;
  const cleared: Record<string, RuleTrack> = {};
  for (const name of Object.keys(s.rules)) cleared[name] = { breachSince: null };
  if (s.pauseReason === 'manual_gate') {
    t.update({ phase: 'progressing', pauseReason: null, pausedFrom: null });
    t.record('resume', `gate released${who}; advancing from ${s.weight}%`);
    moveToStep(t, s.stepIndex + 1);
    return;
  }
  const back = s.pausedFrom ?? 'progressing';
  // Resuming acknowledges the breaches seen so far: `for` windows start over, and so does the step.
  t.update({ phase: back, pauseReason: null, pausedFrom: null, rules: cleared, stepStartedAt: s.weightConfirmed ? t.now : s.stepStartedAt });
  t.record('resume', `resumed${who} at ${s.weight}%; rule windows and the step timer start over`);
  if (s.pauseReason === 'traffic') {
    t.update({ weightConfirmed: false });
    t.actions.push({ type: 'set_weight', weight: s.weight });
  }
}

function onRollbackVerified(t: TransitionBuilder, blueHealthy: boolean, detail: string, verifiedAt: number): void {
  const s = t.state;
  if (s.phase !== 'rolling_back') return;
  const outcome = s.rollbackOutcome ?? 'rolled_back';
  t.update({
    phase: outcome,
    outcome,
    endedAt: t.now,
    weightConfirmed: true,
    detection: s.detection ? { ...s.detection, verifiedAt } : null,
  });
  const took = s.detection ? ` in ${formatDuration(verifiedAt - s.detection.decidedAt)}` : '';
  const d = t.record('rollback_verified', `all traffic on blue (read back)${took}, green drained; blue deep health ${blueHealthy ? 'ok' : 'FAILED'}: ${detail}`);
  t.notify('complete', d);
  t.actions.push({ type: 'finish', outcome });
}
