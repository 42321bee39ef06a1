import { isRateMetric } from './plan.core.js';
import type { Rule, RuleOp } from './plan.schema.js';
import { formatMetric } from './format.core.js';
import { rateDifferenceLowerBound, wilsonBounds } from './stats.core.js';
import type { ColorWindow, Evidence, EvidenceTrack, MetricValue, Observation, RuleEvaluation, RuleStats, RuleStatus, RuleTrack } from './decision.types.js';

/** What the whole plan decides for every rule (computed once per evaluation by the decision core). */
export interface RuleContext {
  /** The plan's `minSamples` (a rule's own `minSamples` wins). */
  readonly minSamples: number;
  /** Critical value of each one-sided threshold test (the error budget per look, ADR 0102). */
  readonly z: number;
  /** Critical value of the "worse than blue by more than the margin" test. */
  readonly blueZ: number;
  /** Critical value of the "inside the threshold" test a step needs to pass. */
  readonly passZ: number;
  /** Φ(z) and Φ(blueZ), for the record. */
  readonly confidence: number;
  readonly blueConfidence: number;
}

const NONE: Evidence = { n: 0, sum: 0 };
/** A latency quantile from fewer events than this says little about its tail. */
const MIN_QUANTILE_SAMPLES = 100;

/** Whether `value op threshold` holds, e.g. `0.02 > 0.01`. */
export function crossesThreshold(value: number, op: RuleOp, threshold: number): boolean {
  switch (op) {
    case '>': return value > threshold;
    case '>=': return value >= threshold;
    case '<': return value < threshold;
    case '<=': return value <= threshold;
  }
}

const higherIsWorse = (op: RuleOp) => op === '>' || op === '>=';

/** The rule's minimum number of events: its own, else the plan's (at least 100 for a quantile). */
export function minSamplesOf(rule: Pick<Rule, 'metric' | 'minSamples'>, planMinSamples: number): number {
  if (rule.minSamples) return rule.minSamples;
  return isRateMetric(rule.metric) ? planMinSamples : Math.max(planMinSamples, MIN_QUANTILE_SAMPLES);
}

function toEvidence(metric: string, value: MetricValue): Evidence {
  // A rate carries its events as value × samples; a point metric (a quantile) is pooled as a
  // samples-weighted mean, an approximation the ADR names.
  return isRateMetric(metric) ? { n: value.samples, sum: Math.round(value.value * value.samples) } : { n: value.samples, sum: value.value * value.samples };
}

const add = (a: Evidence, b: Evidence): Evidence => ({ n: a.n + b.n, sum: a.sum + b.sum });

/**
 * Pools the step's evidence without counting a request twice: windows overlap (a 60 s window
 * every 10 s), so a window is folded into `prior` only once the current one no longer overlaps
 * it; the evidence is `prior` + the current window.
 */
export function accumulate(track: EvidenceTrack | undefined, current: Evidence, at: number, windowMs: number): { track: EvidenceTrack; pooled: Evidence } {
  let prior = track?.prior ?? NONE;
  let last = track?.last ?? null;
  if (last === null || at - windowMs >= last.at) {
    if (last) prior = add(prior, last);
    last = { ...current, at };
  }
  return { track: { prior, last }, pooled: add(prior, current) };
}

interface Judgement {
  /** Green is past the threshold with the rollout's confidence. */
  readonly crosses: boolean;
  /** Green is inside the threshold with the pass confidence (a step may pass on it). */
  readonly passes: boolean;
  readonly bound: number | null;
  readonly estimate: number | null;
  readonly via: 'window' | 'step' | null;
}

/** Judges green alone against the threshold, on the current window and on the step's pooled evidence. */
function judgeThreshold(rule: Rule, window: Evidence, pooled: Evidence, min: number, ctx: RuleContext): Judgement {
  const rate = isRateMetric(rule.metric);
  const worseUp = higherIsWorse(rule.op);
  const estimate = pooled.n > 0 ? pooled.sum / pooled.n : null;
  const crossesOn = (e: Evidence): { crosses: boolean; bound: number | null } => {
    if (e.n < min) return { crosses: false, bound: null };
    if (!rate) return { crosses: crossesThreshold(e.sum / e.n, rule.op, rule.threshold), bound: null };
    const b = wilsonBounds(e.sum, e.n, ctx.z);
    // The bound on the breaching side must itself be past the threshold.
    const bound = worseUp ? b.lower : b.upper;
    return { crosses: crossesThreshold(bound, rule.op, rule.threshold), bound };
  };
  const onWindow = crossesOn(window);
  const onStep = crossesOn(pooled);
  let passes = false;
  if (pooled.n >= min && estimate !== null) {
    if (!rate) passes = !crossesThreshold(estimate, rule.op, rule.threshold);
    else {
      const b = wilsonBounds(pooled.sum, pooled.n, ctx.passZ);
      passes = !crossesThreshold(worseUp ? b.upper : b.lower, rule.op, rule.threshold);
    }
  }
  const via = onWindow.crosses ? 'window' : onStep.crosses ? 'step' : null;
  // The bound reported is the deciding evidence's: a window that crosses while the step's pooled
  // evidence does not yet must not report the step's (inside) bound as the reason.
  const bound = via === 'window' ? onWindow.bound : (onStep.bound ?? onWindow.bound);
  return { crosses: via !== null, passes, bound, estimate, via };
}

/** How much worse green is than blue, as a lower confidence bound (rates) or the plain difference (point metrics). */
function worseThanBlueBy(rule: Rule, green: Evidence, blue: Evidence, ctx: RuleContext): number {
  const sign = higherIsWorse(rule.op) ? 1 : -1;
  if (!isRateMetric(rule.metric)) return sign * (green.sum / green.n - blue.sum / blue.n);
  return sign > 0
    ? rateDifferenceLowerBound(green.sum, green.n, blue.sum, blue.n, ctx.blueZ)
    : rateDifferenceLowerBound(blue.sum, blue.n, green.sum, green.n, ctx.blueZ);
}

function usable(value: MetricValue | undefined): MetricValue | null {
  return value && value.samples > 0 && Number.isFinite(value.value) ? value : null;
}

/**
 * Metrics every judged request contributes to: a source that saw requests must report them.
 * Session and auth failure rates count their own events (logins, API calls) and are simply
 * absent from a window that had none; a custom PromQL metric must always answer (as Flagger:
 * "no values found" fails the check).
 */
const PER_REQUEST_METRICS = new Set(['error_rate', 'db_error_rate', 'p95_latency_ms']);

/** Why a rule that should be judged has nothing to judge, or null when it is fine to judge (or to skip). */
function cannotEvaluate(rule: Rule, window: ColorWindow): string | null {
  const value = window.metrics[rule.metric];
  if (window.requests <= 0) return null;
  if (value === undefined) {
    return rule.query !== null || PER_REQUEST_METRICS.has(rule.metric) ? `no series for ${rule.metric} while green served ${window.requests} requests` : null;
  }
  if (!Number.isFinite(value.value) && value.samples > 0) return `${rule.metric} has no usable value (${String(value.value)})`;
  return null;
}

/**
 * Judges one rule on one observation (docs/rollout.md "Decision semantics", ADR 0102):
 * - `error` when it should be judged but cannot (no series, no value while green has traffic);
 * - `insufficient` below the rule's minimum events, or while the evidence is not yet conclusive
 *   either way (neither confirms nor clears a pending breach);
 * - past the threshold only when the one-sided bound is (window or step evidence), then
 *   `excused` when blue has enough events and green is not worse than blue by more than the
 *   margin with `blueConfidence`, else `pending` until it held for `for`, then `breached`;
 * - `ok` once green is inside the threshold with `passConfidence` over the step.
 */
export function evaluateRule(
  rule: Rule,
  observation: Observation,
  ctx: RuleContext,
  track: RuleTrack | undefined,
): { evaluation: RuleEvaluation; track: RuleTrack } {
  const min = minSamplesOf(rule, ctx.minSamples);
  const green = usable(observation.green.metrics[rule.metric]);
  const blue = usable(observation.blue.metrics[rule.metric]);
  const greenAcc = green ? accumulate(track?.green, toEvidence(rule.metric, green), observation.at, observation.windowMs) : { track: track?.green, pooled: poolOf(track?.green) };
  const blueAcc = blue ? accumulate(track?.blue, toEvidence(rule.metric, blue), observation.at, observation.windowMs) : { track: track?.blue, pooled: poolOf(track?.blue) };
  const out: Outcome = {
    rule, green, blue, greenTrack: greenAcc.track, blueTrack: blueAcc.track,
    since: track?.breachSince ?? null, firstBad: track?.firstBadAt ?? null, compared: false, stats: undefined, error: undefined,
  };

  const problem = cannotEvaluate(rule, observation.green);
  if (problem) return build(out, 'error', `cannot evaluate: ${problem}`, { error: problem });
  if (green === null) {
    return observation.green.requests > 0
      ? build(out, 'no_data', `no ${rule.metric} events in the window (nothing to judge; does not hold the step)`)
      : build(out, 'insufficient', 'green served no judged requests in the window');
  }

  const windowEvidence = toEvidence(rule.metric, green);
  const pooled = greenAcc.pooled;
  const judged = judgeThreshold(rule, windowEvidence, pooled, min, ctx);
  const [g, b] = judged.via === 'window' ? [windowEvidence, blue ? toEvidence(rule.metric, blue) : NONE] : [pooled, blueAcc.pooled];
  const compared = rule.compareWithBlue !== null && b.n >= min && g.n > 0;
  const diff = compared ? worseThanBlueBy(rule, g, b, ctx) : null;
  // The figures the judgement rests on: the window's when the window decided, else the step's.
  const stats: RuleStats = {
    samples: g.n,
    blueSamples: compared ? b.n : 0,
    minSamples: min,
    estimate: judged.via === 'window' ? g.sum / g.n : judged.estimate,
    bound: judged.bound,
    confidence: ctx.confidence,
    blueDiffBound: diff,
    blueConfidence: ctx.blueConfidence,
  };
  const m = rule.metric;

  if (judged.crosses) {
    const margin = rule.compareWithBlue?.margin ?? 0;
    if (compared && diff !== null && !(diff > margin)) {
      const why = `past ${rule.op} ${show(m, rule.threshold)} (${describeEvidence(m, g.n, { ...judged, estimate: stats.estimate })}) but not worse than blue by more than ${show(m, margin)} (bound ${show(m, diff)})`;
      return build(out, 'excused', why, { compared: true, stats, since: null, firstBad: null });
    }
    const since = out.since ?? observation.at;
    // A failed request dates a rate's first bad sample; a quantile's is its window's start.
    const windowStart = observation.at - observation.windowMs;
    const firstBadSample = isRateMetric(m) ? (observation.green.firstErrorAt ?? windowStart) : windowStart;
    const firstBad = Math.min(out.firstBad ?? Infinity, firstBadSample);
    const status: RuleStatus = observation.at - since >= rule.forMs ? 'breached' : 'pending';
    const on = judged.via === 'window' ? `n=${windowEvidence.n} in the window` : describeEvidence(m, pooled.n, judged);
    const why = `green ${rule.op} ${show(m, rule.threshold)} with ${percent(ctx.confidence)} confidence (${on})${compared ? `, worse than blue by more than ${show(m, margin)} (bound ${show(m, diff)})` : ''}`;
    return build(out, status, why, { compared, stats, since, firstBad });
  }
  if (!judged.passes) {
    const why = pooled.n < min ? `${pooled.n} of ${min} events needed this step` : `not yet conclusive (${describeEvidence(m, pooled.n, judged)})`;
    return build(out, 'insufficient', why, { stats });
  }
  return build(out, 'ok', `inside ${show(m, rule.threshold)} (${describeEvidence(m, pooled.n, judged)})`, { compared, stats, since: null, firstBad: null });
}

interface Outcome {
  readonly rule: Rule;
  readonly green: MetricValue | null;
  readonly blue: MetricValue | null;
  readonly greenTrack: EvidenceTrack | undefined;
  readonly blueTrack: EvidenceTrack | undefined;
  readonly since: number | null;
  readonly firstBad: number | null;
  readonly compared: boolean;
  readonly stats: RuleStats | undefined;
  readonly error: string | undefined;
}

/** One shape for every evaluation and track (keeps the hot path monomorphic). */
function build(base: Outcome, status: RuleStatus, why: string, patch: Partial<Outcome> = {}): { evaluation: RuleEvaluation; track: RuleTrack } {
  const o = { ...base, ...patch };
  const r = o.rule;
  return {
    evaluation: {
      rule: r.name, metric: r.metric, op: r.op, threshold: r.threshold, forMs: r.forMs, action: r.action,
      status, green: o.green, blue: o.blue, comparedWithBlue: o.compared, breachSince: o.since, why, stats: o.stats, error: o.error,
    },
    track: { breachSince: o.since, firstBadAt: o.firstBad, green: o.greenTrack, blue: o.blueTrack },
  };
}

function show(metric: string, value: number | null): string {
  return value === null ? 'n/a' : formatMetric(metric, value);
}

function percent(confidence: number): string {
  return `${Number((confidence * 100).toPrecision(6))} %`;
}

function describeEvidence(metric: string, n: number, judged: Judgement): string {
  return `n=${n}, estimate ${show(metric, judged.estimate)}${judged.bound !== null ? `, bound ${show(metric, judged.bound)}` : ''}`;
}

function poolOf(track: EvidenceTrack | undefined): Evidence {
  return track ? add(track.prior, track.last ?? NONE) : NONE;
}
