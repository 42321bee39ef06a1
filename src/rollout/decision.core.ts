import { formatDuration } from './duration.core.js';
import { isRateMetric, progressDeadlineOf } from './plan.core.js';
import type { NotifyEvent, Plan } from './plan.schema.js';
import { accumulate, crossesThreshold, evaluateRule, minSamplesOf, type RuleContext } from './rules.core.js';
import { alphaPerLook, normalQuantile, wilsonBounds } from './stats.core.js';
import { formatMetric } from './format.core.js';
import type {
  Action,
  EvidenceTrack,
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
    lastBlueOk: null,
    consecutiveErrors: 0,
    criteria: {},
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
    case 'health_result': onHealth(t, input.ok, input.detail, input.blue); break;
    case 'blue_health': onBlueHealth(t, input.ok, input.detail); break;
    case 'green_ejected': onGreenEjected(t, input.detail); break;
    case 'command': onCommand(t, input.command, input.by, input.force ?? false); break;
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
  // Each step judges its own evidence: the rules' pooled windows start over (ADR 0102).
  t.update({ stepIndex: index, weight: step.weight, weightConfirmed: false, stepStartedAt: null, rules: {} });
  t.actions.push({ type: 'set_weight', weight: step.weight });
}

/** A refused rollback waits for blue to be healthy again: keep checking it every bake interval. */
function probeBlueIfDue(t: TransitionBuilder): void {
  const s = t.state;
  if (s.lastProbeAt === null || t.now - s.lastProbeAt >= t.plan.bake.intervalMs) probe(t);
}

/** Deep health of green (and blue) at every step entry and every bake interval. */
function probe(t: TransitionBuilder): void {
  if (t.state.probeInFlight) return;
  t.update({ probeInFlight: true, lastProbeAt: t.now });
  t.actions.push({ type: 'probe_health' });
}

function onWeightApplied(t: TransitionBuilder, weight: number): void {
  const s = t.state;
  if (s.phase === 'rolling_back' || !ACTIVE.has(s.phase) || weight !== s.weight || s.weightConfirmed) return;
  // A 0 % hold counts from T+0: it covers preflight and smoke (the seed's first five minutes).
  t.update({ weightConfirmed: true, stepStartedAt: weight === 0 ? (s.startedAt ?? t.now) : t.now });
  const total = t.plan.steps.length;
  if (weight === 100 && s.phase === 'progressing') {
    t.update({ phase: 'baking', bakeStartedAt: t.now, lastProbeAt: null, lastProbeOk: null, criteria: {} });
    const d = t.record('bake_started', `green at 100% (read back); baking ${formatDuration(t.plan.bake.durationMs)} with deep health of both colors every ${formatDuration(t.plan.bake.intervalMs)}, blue on standby`);
    t.notify('step', d);
    probe(t);
    return;
  }
  const d = t.record('weight_applied', `step ${s.stepIndex + 1}/${total}: green at ${weight}% (read back)`);
  t.notify('step', d);
  probe(t);
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

function pause(t: TransitionBuilder, reason: NonNullable<RolloutState['pauseReason']>, kind: DecisionKind, message: string, extra: Partial<Decision> = {}, event: NotifyEvent = 'pause'): void {
  const s = t.state;
  const from = s.phase === 'paused' ? s.pausedFrom : s.phase === 'baking' ? 'baking' : 'progressing';
  t.update({ phase: 'paused', pauseReason: reason, pausedFrom: from });
  const d = t.record(kind, message, extra);
  t.notify(event, d);
}

function startRollback(t: TransitionBuilder, outcome: 'rolled_back' | 'aborted', reason: string, rule: RuleEvaluation | null, firstBadAt: number | null, extra: Partial<Decision> = {}, force = false): void {
  if (t.state.lastBlueOk === false && !force) {
    // Moving every user onto a blue that fails its own deep health would make things worse.
    if (t.state.phase === 'paused' && t.state.pauseReason === 'blue_unhealthy') {
      t.record('hold', `${reason}; rollback still refused: blue's last deep health failed`, extra);
      probeBlueIfDue(t);
      return;
    }
    pause(t, 'blue_unhealthy', 'rollback_failed', `rollback refused: blue's last deep health failed, so green keeps ${t.state.weight}% (${reason}); fix blue, or roll back with force`, { ...extra, ...(rule ? { rule } : {}) }, 'rollback_failed');
    return;
  }
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

const contexts = new WeakMap<Plan, RuleContext>();

/**
 * The plan's error budget per look (ADR 0102): `falseAlarmRate` spread over every test the
 * rollout can make, two per rule per evaluation (window and step) from the first judged step
 * to the end of the bake, every step running to its progress deadline.
 */
export function ruleContextOf(plan: Plan): RuleContext {
  const cached = contexts.get(plan);
  if (cached) return cached;
  const judged = plan.steps.filter((step) => step.weight > 0 && step.weight < 100);
  const horizonMs = judged.reduce((sum, step) => sum + progressDeadlineOf(step), 0) + plan.bake.durationMs;
  const looks = Math.ceil(horizonMs / plan.intervalMs) * 2 * Math.max(1, plan.rules.length);
  const alpha = alphaPerLook(plan.analysis.falseAlarmRate, looks);
  const context: RuleContext = {
    minSamples: plan.minSamples,
    z: normalQuantile(1 - alpha),
    blueZ: normalQuantile(plan.analysis.blueConfidence),
    passZ: normalQuantile(plan.analysis.passConfidence),
    confidence: 1 - alpha,
    blueConfidence: plan.analysis.blueConfidence,
  };
  contexts.set(plan, context);
  return context;
}

function describeDoubt(t: TransitionBuilder, e: RuleEvaluation): string {
  const what = e.status === 'excused' ? "blue as bad, not green's fault" : e.status === 'pending' ? `pending since ${formatDuration(t.now - (e.breachSince ?? t.now))}` : e.why ?? e.status;
  return `${describeEvaluation(e)} [${what}]`;
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
  const context = ruleContextOf(t.plan);

  const evaluations: RuleEvaluation[] = [];
  const tracks: Record<string, RuleTrack> = {};
  for (const rule of t.plan.rules) {
    const { evaluation, track } = evaluateRule(rule, obs, context, s.rules[rule.name]);
    evaluations.push(evaluation);
    tracks[rule.name] = track;
  }
  const errors = [...(obs.errors ?? []), ...evaluations.flatMap((e) => (e.status === 'error' ? [`${e.rule}: ${e.error ?? 'cannot evaluate'}`] : []))];
  const consecutiveErrors = errors.length > 0 ? (s.consecutiveErrors ?? 0) + 1 : 0;
  t.update({ rules: tracks, consecutiveErrors });
  if (s.phase === 'baking' || (s.phase === 'paused' && s.pausedFrom === 'baking')) accumulateCriteria(t, obs);
  const detail = { ...window, evaluations, ...(errors.length > 0 ? { errors } : {}) };
  const rollbackHit = evaluations.find((e) => e.status === 'breached' && e.action === 'rollback');
  const pauseHit = evaluations.find((e) => e.status === 'breached' && e.action === 'pause');

  // A confirmed breach acts even when another rule errs: rolling back on evidence is never unsafe.
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
    const firstBadAt = tracks[rollbackHit.rule]?.firstBadAt ?? rollbackHit.breachSince;
    startRollback(t, 'rolled_back', `rule ${why}`, rollbackHit, firstBadAt, detail);
    return;
  }
  if (pauseHit && s.phase !== 'paused') {
    pause(t, 'rule', 'pause', `paused for manual review: ${describeEvaluation(pauseHit)}`, { ...detail, rule: pauseHit });
    return;
  }
  if (errors.length > 0) {
    onAnalysisError(t, errors, consecutiveErrors, detail);
    return;
  }
  // `no_data`: a rule whose own events (logins, API calls) did not occur; nothing to judge.
  const doubts = evaluations.filter((e) => e.status !== 'ok' && e.status !== 'no_data');
  const doubtText = doubts.map((e) => describeDoubt(t, e)).join('; ');

  if (s.phase === 'paused') {
    t.record('hold', `paused (${s.pauseReason ?? 'unknown'}) at ${s.weight}%: waiting for resume, promote, abort or rollback${doubts.length ? `; now: ${doubtText}` : ''}`, detail);
    if (s.pauseReason === 'blue_unhealthy') probeBlueIfDue(t);
    return;
  }

  if (s.phase === 'baking') {
    const elapsed = s.bakeStartedAt === null ? 0 : t.now - s.bakeStartedAt;
    t.record(doubts.some((e) => e.status === 'pending' || e.status === 'excused') ? 'hold' : 'healthy', `baking ${formatDuration(elapsed)} of ${formatDuration(t.plan.bake.durationMs)}${doubts.length ? `: ${doubtText}` : ': all rules ok'}`, detail);
    scheduleBakeProbe(t);
    return;
  }

  if (!s.weightConfirmed || s.stepStartedAt === null) {
    t.record('hold', `waiting for the traffic router to confirm ${s.weight}%`, detail);
    return;
  }
  const step = t.plan.steps[s.stepIndex];
  if (!step) return;
  const elapsed = t.now - s.stepStartedAt;
  const timing = `${formatDuration(elapsed)} of ${formatDuration(step.durationMs)} at ${s.weight}%`;
  // A 0 % hold judges nothing (green has no traffic); it only has to last.
  const undecided = step.weight === 0 ? [] : doubts;
  if (elapsed < step.durationMs || undecided.length > 0) {
    const deadline = progressDeadlineOf(step);
    if (undecided.length > 0 && elapsed >= deadline) {
      const starved = undecided.some((e) => e.status === 'insufficient');
      pause(t, starved ? 'insufficient_traffic' : 'stuck', 'stuck', `step ${s.stepIndex + 1} at ${s.weight}% could not decide within its progress deadline of ${formatDuration(deadline)}${starved ? ' (too little traffic to judge green)' : ''}: ${doubtText}`, detail, 'stuck');
      return;
    }
    const insufficient = undecided.length > 0 && undecided.every((e) => e.status === 'insufficient');
    if (insufficient) {
      t.record('insufficient_data', `insufficient data: green has ${obs.green.requests} requests in the last ${formatDuration(obs.windowMs)}, ${doubtText}; holding at ${s.weight}% (${timing})`, detail);
      return;
    }
    t.record(undecided.length ? 'hold' : 'healthy', undecided.length ? `holding (${timing}): ${doubtText}` : `healthy (${timing})`, detail);
    return;
  }
  if (step.gate === 'manual') {
    pause(t, 'manual_gate', 'gate', `step ${s.stepIndex + 1} passed at ${s.weight}%; manual gate: waiting for \`boka rollout resume\``, detail);
    return;
  }
  const next = t.plan.steps[s.stepIndex + 1];
  const passed = step.weight === 0 ? `held at 0% for ${formatDuration(elapsed)} (preflight and smoke)` : `all rules ok for ${formatDuration(elapsed)}`;
  t.record('advance', `step ${s.stepIndex + 1} passed at ${s.weight}% (${passed}); advancing to ${next?.weight ?? 100}%`, detail);
  moveToStep(t, s.stepIndex + 1);
}

/** Fail closed (ADR 0103): never advance on an evaluation with errors; at the limit, pause or roll back. */
function onAnalysisError(t: TransitionBuilder, errors: readonly string[], count: number, detail: Partial<Decision>): void {
  const s = t.state;
  const limit = t.plan.analysis.consecutiveErrorLimit;
  const causes = errors.join('; ');
  if (count !== limit) {
    t.record('analysis_error', `analysis error ${Math.min(count, limit)}/${limit} in a row at ${s.weight}%, not advancing: ${causes}`, detail);
    if (s.phase === 'baking') scheduleBakeProbe(t);
    return;
  }
  const message = `${limit} evaluations in a row could not evaluate every rule: ${causes}`;
  if (t.plan.analysis.onError === 'rollback') {
    startRollback(t, 'rolled_back', `${message} (analysis.onError: rollback)`, null, null, detail);
    const d = t.state.lastDecision;
    if (d) t.notify('analysis_error', d);
    return;
  }
  if (s.phase === 'paused') {
    const d = t.record('analysis_error', `${message}; still paused (${s.pauseReason ?? 'unknown'})`, detail);
    t.notify('analysis_error', d);
    return;
  }
  pause(t, 'analysis_error', 'analysis_error', `paused at ${s.weight}%: ${message}`, detail, 'analysis_error');
}

/** Pools the success criteria's evidence over the bake. */
function accumulateCriteria(t: TransitionBuilder, obs: Observation): void {
  const criteria: Record<string, EvidenceTrack> = { ...(t.state.criteria ?? {}) };
  for (const c of t.plan.successCriteria) {
    const value = obs.green.metrics[c.metric];
    if (!value || value.samples <= 0 || !Number.isFinite(value.value)) continue;
    const current = isRateMetric(c.metric) ? { n: value.samples, sum: Math.round(value.value * value.samples) } : { n: value.samples, sum: value.value * value.samples };
    criteria[c.metric] = accumulate(criteria[c.metric], current, obs.at, obs.windowMs).track;
  }
  t.update({ criteria });
}

/**
 * The success criteria not met over the bake, with why. A criterion fails when green is past it
 * with the rollout's confidence (a rate's one-sided bound; a quantile's pooled estimate), or
 * when it has too few events to be judged at all (fail closed).
 */
export function unmetCriteria(plan: Plan, criteria: Readonly<Record<string, EvidenceTrack>>): string[] {
  const context = ruleContextOf(plan);
  const unmet: string[] = [];
  for (const c of plan.successCriteria) {
    const track = criteria[c.metric];
    const n = (track?.prior.n ?? 0) + (track?.last?.n ?? 0);
    const sum = (track?.prior.sum ?? 0) + (track?.last?.sum ?? 0);
    const min = minSamplesOf({ metric: c.metric, minSamples: null }, plan.minSamples);
    const target = `${c.metric} ${c.op} ${formatMetric(c.metric, c.threshold)}`;
    if (n < min) {
      unmet.push(`${target}: ${n} of ${min} events over the bake`);
      continue;
    }
    const estimate = sum / n;
    if (isRateMetric(c.metric)) {
      const b = wilsonBounds(sum, n, context.z);
      // The criterion states where green must be; it fails when the bound on the far side is past it.
      const far = c.op === '<' || c.op === '<=' ? b.lower : b.upper;
      if (!crossesThreshold(far, c.op, c.threshold)) unmet.push(`${target}: ${formatMetric(c.metric, estimate)} over ${n} events (bound ${formatMetric(c.metric, far)})`);
    } else if (!crossesThreshold(estimate, c.op, c.threshold)) {
      unmet.push(`${target}: ${formatMetric(c.metric, estimate)} over ${n} events`);
    }
  }
  return unmet;
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

/**
 * Blue's health as the router sees it. Without it a rollback decided mid-step would trust the
 * last step-entry probe, however old; with it, a blue the router has ejected is known at once.
 */
function onBlueHealth(t: TransitionBuilder, ok: boolean, detail: string): void {
  if (t.state.lastBlueOk === ok) return;
  t.update({ lastBlueOk: ok });
  if (!ACTIVE.has(t.state.phase)) return;
  t.record('hold', ok ? `blue healthy again at the router: ${detail}` : `blue unhealthy at the router (${detail}): a rollback would be refused without force`);
}

/**
 * Green ejected at the router: it gets no traffic, so the rules see no data and would only hold
 * until the progress deadline. A deep probe decides instead (its failure rolls back, as at a
 * step entry); at most one per evaluation interval, so a green the router keeps out but whose
 * deep health passes is not probed in a storm.
 */
function onGreenEjected(t: TransitionBuilder, detail: string): void {
  const s = t.state;
  if (s.phase !== 'progressing' && s.phase !== 'baking') return;
  if (s.probeInFlight || (s.lastProbeAt !== null && t.now - s.lastProbeAt < t.plan.intervalMs)) return;
  t.record('hold', `green ejected at the router (${detail}): probing its deep health`);
  probe(t);
}

function onHealth(t: TransitionBuilder, ok: boolean, detail: string, blue: { ok: boolean; detail: string } | undefined): void {
  const s = t.state;
  t.update({ probeInFlight: false, lastProbeOk: ok, ...(blue ? { lastBlueOk: blue.ok } : {}) });
  if (!ACTIVE.has(s.phase) || s.phase === 'preflight') return;
  const blueText = blue ? `; blue ${blue.ok ? 'ok' : `FAILED (${blue.detail}): a rollback would be refused without force`}` : '';
  if (!ok) {
    const where = s.phase === 'baking' ? 'during bake' : `at ${s.weight}%`;
    const reason = `deep health of green failed ${where}: ${detail}`;
    if (t.plan.rollback === 'freeze') {
      if (s.phase === 'paused' && s.pauseReason === 'freeze') return void t.record('hold', `frozen at ${s.weight}%: ${reason}`);
      pause(t, 'freeze', 'freeze', `frozen at ${s.weight}% instead of rolling back (rollback: freeze): ${reason}`);
      return;
    }
    startRollback(t, 'rolled_back', reason, null, s.lastProbeAt ?? t.now);
    return;
  }
  if (s.phase !== 'baking') {
    t.record('bake_health', `deep health of green ok at ${s.weight}%: ${detail}${blueText}`);
    return;
  }
  const elapsed = s.bakeStartedAt === null ? 0 : t.now - s.bakeStartedAt;
  if (elapsed < t.plan.bake.durationMs) {
    t.record('bake_health', `deep health of green ok (${formatDuration(elapsed)} of ${formatDuration(t.plan.bake.durationMs)} baked): ${detail}${blueText}`);
    return;
  }
  if ((s.consecutiveErrors ?? 0) > 0) {
    t.record('hold', `bake over, but the last evaluation had analysis errors: not promoting until an evaluation is clean`);
    return;
  }
  const unmet = unmetCriteria(t.plan, s.criteria ?? {});
  if (unmet.length > 0) {
    pause(t, 'success_criteria', 'pause', `bake over, success criteria not met, not promoting: ${unmet.join('; ')} (promote overrides)`);
    return;
  }
  const met = t.plan.successCriteria.length > 0 ? ', success criteria met' : '';
  complete(t, `bake of ${formatDuration(t.plan.bake.durationMs)} finished with green healthy${met}: promoted`);
}

function complete(t: TransitionBuilder, message: string): void {
  t.update({ phase: 'promoted', outcome: 'promoted', endedAt: t.now, pauseReason: null });
  const d = t.record('complete', message);
  t.notify('complete', d);
  t.actions.push({ type: 'finish', outcome: 'promoted' });
}

function onCommand(t: TransitionBuilder, command: Command, by: string | undefined, force: boolean): void {
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
      startRollback(t, outcome, `${command === 'abort' ? 'aborted' : 'rollback requested'}${who}${force ? ' (forced)' : ''} at ${s.weight}%`, null, null, {}, force && command === 'rollback');
      return;
    }
  }
}

function resume(t: TransitionBuilder, who: string): void {
  const s = t.state;
  // Resuming acknowledges what was seen so far: rule windows and their evidence start over.
  const cleared: Record<string, RuleTrack> = {};
  if (s.pauseReason === 'manual_gate') {
    t.update({ phase: 'progressing', pauseReason: null, pausedFrom: null });
    t.record('resume', `gate released${who}; advancing from ${s.weight}%`);
    moveToStep(t, s.stepIndex + 1);
    return;
  }
  const back = s.pausedFrom ?? 'progressing';
  // Resuming acknowledges the breaches seen so far: `for` windows start over, and so does the step.
  t.update({ phase: back, pauseReason: null, pausedFrom: null, rules: cleared, consecutiveErrors: 0, stepStartedAt: s.weightConfirmed ? t.now : s.stepStartedAt });
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
  if (!blueHealthy) t.notify('rollback_failed', d);
  t.actions.push({ type: 'finish', outcome });
}
