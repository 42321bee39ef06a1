import type { Rule, RuleOp } from './plan.schema.js';
import type { MetricValue, Observation, RuleEvaluation, RuleTrack } from './decision.types.js';

/** Whether `value op threshold` holds, e.g. `0.02 > 0.01`. */
function crossesThreshold(value: number, op: RuleOp, threshold: number): boolean {
  switch (op) {
    case '>': return value > threshold;
    case '>=': return value >= threshold;
    case '<': return value < threshold;
    case '<=': return value <= threshold;
  }
}

/**
 * Whether green is worse than blue by more than `margin`. "Worse" follows the rule's direction:
 * for `>`/`>=` rules higher is worse, for `<`/`<=` rules lower is worse.
 */
function isWorseThanBlue(green: number, blue: number, op: RuleOp, margin: number): boolean {
  return op === '>' || op === '>=' ? green > blue + margin : green < blue - margin;
}

function usable(value: MetricValue | undefined): MetricValue | null {
  return value && value.samples > 0 && Number.isFinite(value.value) ? value : null;
}

/**
 * Judges one rule on one observation. The caller has already checked that green has at least
 * `minSamples` requests; `minSamples` is used here only to decide whether blue's window is big
 * enough to compare against. With too little blue data, green is judged alone: the comparison
 * exists to excuse green when the fault is shared, and cannot excuse it on no evidence.
 *
 * `for` semantics: the condition must be seen at every judged evaluation from `breachSince` to
 * now, and now − breachSince ≥ for. An `ok` or `excused` evaluation clears `breachSince`;
 * `no_data` neither confirms nor clears it.
 */
export function evaluateRule(
  rule: Rule,
  observation: Observation,
  minSamples: number,
  track: RuleTrack | undefined,
): { evaluation: RuleEvaluation; track: RuleTrack } {
  const green = usable(observation.green.metrics[rule.metric]);
  const blue = usable(observation.blue.metrics[rule.metric]);
  const compared = rule.compareWithBlue !== null && blue !== null && observation.blue.requests >= minSamples;
  const base = {
    rule: rule.name,
    metric: rule.metric,
    op: rule.op,
    threshold: rule.threshold,
    forMs: rule.forMs,
    action: rule.action,
    green,
    blue,
    comparedWithBlue: compared,
  };
  const previousSince = track?.breachSince ?? null;
  if (green === null) {
    return { evaluation: { ...base, status: 'no_data', breachSince: previousSince }, track: { breachSince: previousSince } };
  }
  if (!crossesThreshold(green.value, rule.op, rule.threshold)) {
    return { evaluation: { ...base, status: 'ok', breachSince: null }, track: { breachSince: null } };
  }
  if (compared && blue && rule.compareWithBlue && !isWorseThanBlue(green.value, blue.value, rule.op, rule.compareWithBlue.margin)) {
    return { evaluation: { ...base, status: 'excused', breachSince: null }, track: { breachSince: null } };
  }
  const since = previousSince ?? observation.at;
  const status = observation.at - since >= rule.forMs ? 'breached' : 'pending';
  return { evaluation: { ...base, status, breachSince: since }, track: { breachSince: since } };
}
