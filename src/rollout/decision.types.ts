import type { NotifyEvent, RuleAction, RuleOp } from './plan.schema.js';

export type Color = 'blue' | 'green';

/** One metric over one color's window: the value and how many events it is computed from. */
export interface MetricValue {
  readonly value: number;
  readonly samples: number;
}

/** What a metric source saw of one color during the evaluation window. */
export interface ColorWindow {
  /** Requests served in the window; `minSamples` is judged on green's. */
  readonly requests: number;
  /** Keyed by metric name (`error_rate`, `p95_latency_ms`, … or a custom PromQL metric). */
  readonly metrics: Readonly<Record<string, MetricValue | undefined>>;
  /** Epoch ms of the earliest failed request in the window (the router knows it); time to detect counts from it. */
  readonly firstErrorAt?: number;
}

export interface Observation {
  /** When the window ends (the evaluation time), epoch ms. */
  readonly at: number;
  readonly windowMs: number;
  readonly green: ColorWindow;
  readonly blue: ColorWindow;
  /**
   * Metric-source failures in this evaluation ("scrape green http://…: HTTP 404",
   * "prometheus: timeout"), filled by the controller. A rule that cannot be evaluated is an
   * analysis error (fail closed), never a silent `no_data`.
   */
  readonly errors?: readonly string[];
}

export type Command = 'pause' | 'resume' | 'promote' | 'abort' | 'rollback';

export type Input =
  | { readonly type: 'start' }
  | { readonly type: 'preflight_result'; readonly ok: boolean; readonly failures: readonly string[] }
  | { readonly type: 'observe'; readonly observation: Observation }
  /** `force` is only meaningful for `rollback`: roll back even onto a blue known to be unhealthy. */
  | { readonly type: 'command'; readonly command: Command; readonly by?: string; readonly force?: boolean }
  /** The traffic router was read back at this weight. */
  | { readonly type: 'weight_applied'; readonly weight: number }
  | { readonly type: 'traffic_failed'; readonly weight: number; readonly error: string }
  /**
   * `ok`: every green instance passes deep health AND reports the expected version;
   * `blue`: blue's deep health (checked at step entries and during the bake too).
   */
  /**
   * The front door's own readiness view of blue (the router's sub-second health checks), fed
   * between deep probes. The controller sends only `ok: false` (fail closed): blue counts as
   * healthy again only when a deep probe says so.
   */
  | { readonly type: 'blue_health'; readonly ok: boolean; readonly detail: string }
  /**
   * The router has ejected every green instance (its readiness checks fail). Green then gets no
   * traffic, so no rule can judge it: the core asks for a deep probe, whose failure rolls back.
   */
  | { readonly type: 'green_ejected'; readonly detail: string }
  | {
      readonly type: 'health_result';
      readonly ok: boolean;
      readonly detail: string;
      readonly blue?: { readonly ok: boolean; readonly detail: string };
    }
  /** All traffic is on blue (read back), green drained, blue's deep health checked. */
  | {
      readonly type: 'rollback_verified';
      readonly blueHealthy: boolean;
      readonly detail: string;
      /** When blue's 100 % was read back; drain and blue's health check come after it. */
      readonly weightVerifiedAt?: number;
    };

export type Phase =
  | 'pending'
  | 'preflight'
  | 'progressing'
  | 'paused'
  | 'baking'
  | 'rolling_back'
  | 'promoted'
  | 'rolled_back'
  | 'aborted';

export type Outcome = 'promoted' | 'rolled_back' | 'aborted' | 'paused';

export type PauseReason =
  | 'manual_gate'
  | 'rule'
  | 'command'
  | 'freeze'
  | 'traffic'
  /** `consecutiveErrorLimit` evaluations in a row could not evaluate every rule. */
  | 'analysis_error'
  /** The step's progress deadline passed without a decision (e.g. blue as bad as green). */
  | 'stuck'
  /** The step's progress deadline passed with too little traffic to judge green. */
  | 'insufficient_traffic'
  /** A rollback was refused because blue's last deep health failed (retry with `force`). */
  | 'blue_unhealthy'
  /** The success criteria were not met at the end of the bake: no promotion. */
  | 'success_criteria';

/** How one rule judged one evaluation. */
export type RuleStatus =
  /** Green's value is inside the threshold. */
  | 'ok'
  /** Green crosses the threshold but has not for the whole `for` window yet. */
  | 'pending'
  /** Green crossed the threshold for the whole `for` window: the rule's action applies. */
  | 'breached'
  /** Green crosses the threshold but blue is as bad (within the margin): not green's fault. */
  | 'excused'
  /** The rule's own events (logins, API calls) did not occur in the window: nothing to judge, does not hold a step. */
  | 'no_data'
  /** Fewer events than the rule's minimum sample size: neither confirms nor clears. */
  | 'insufficient'
  /**
   * The rule should have been evaluated but could not (metric-source error, no series, no value
   * while green has traffic): an analysis error, cause in `error`. Fails closed.
   */
  | 'error';

/** The statistics behind one rule's judgement (docs/adr/0102), for the event log and dashboard. */
export interface RuleStats {
  /** Green events the judgement is based on: the window's when it crossed alone, else the step's pool (ADR 0102). */
  readonly samples: number;
  /** Blue events compared against (0 when not compared). */
  readonly blueSamples: number;
  /** The rule's minimum sample size. */
  readonly minSamples: number;
  /** Green's point estimate over `samples` (a rate as a fraction, a latency in ms). */
  readonly estimate: number | null;
  /**
   * Green's one-sided confidence bound in the breaching direction (the lower bound for a `>`
   * rule): the rule breaches the threshold only when this bound is past it. Null for
   * point-estimate metrics (latency quantiles, custom metrics without counts).
   */
  readonly bound: number | null;
  /** One-sided confidence of `bound`, e.g. 0.99999. */
  readonly confidence: number;
  /** Lower confidence bound (at `blueConfidence`) of how much worse green is than blue; null when not compared. */
  readonly blueDiffBound: number | null;
  readonly blueConfidence: number;
}

export interface RuleEvaluation {
  readonly rule: string;
  readonly metric: string;
  readonly op: RuleOp;
  readonly threshold: number;
  readonly forMs: number;
  readonly action: RuleAction;
  readonly status: RuleStatus;
  readonly green: MetricValue | null;
  readonly blue: MetricValue | null;
  /** Whether blue's value took part in the judgement (enough blue samples and the rule compares). */
  readonly comparedWithBlue: boolean;
  /** First evaluation time at which the condition was seen, while it keeps holding. */
  readonly breachSince: number | null;
  /** Why this status, in one sentence ("green 2.1 % ≥ 1 % at 99.999 %: lower bound 1.4 %, n=812"). */
  readonly why?: string;
  readonly stats?: RuleStats;
  /** For status `error`: what made the rule impossible to evaluate. */
  readonly error?: string;
}

export type DecisionKind =
  | 'started'
  | 'preflight_passed'
  | 'preflight_failed'
  | 'weight_applied'
  | 'traffic_failed'
  | 'insufficient_data'
  | 'hold'
  | 'healthy'
  | 'advance'
  | 'gate'
  | 'pause'
  | 'resume'
  | 'freeze'
  | 'rollback'
  | 'abort'
  | 'promote'
  | 'bake_started'
  | 'bake_health'
  | 'complete'
  | 'rollback_verified'
  /** An evaluation in which a rule could not be evaluated (fail closed). */
  | 'analysis_error'
  /** The step's progress deadline passed without a decision. */
  | 'stuck'
  /** A rollback refused (blue unhealthy) or verified onto an unhealthy blue. */
  | 'rollback_failed'
  | 'rejected';

/** One explained decision; every one is appended to the event log. */
export interface Decision {
  readonly at: number;
  readonly kind: DecisionKind;
  readonly message: string;
  readonly phase: Phase;
  readonly step: number;
  readonly weight: number;
  readonly windowMs?: number;
  /** The rule that caused a pause/rollback/freeze. */
  readonly rule?: RuleEvaluation;
  readonly evaluations?: readonly RuleEvaluation[];
  readonly greenRequests?: number;
  readonly blueRequests?: number;
  /** Analysis errors of this evaluation (metric-source errors and rules that could not be evaluated). */
  readonly errors?: readonly string[];
}

export type Action =
  | { readonly type: 'run_preflight' }
  | { readonly type: 'set_weight'; readonly weight: number }
  /** Move 100 % to blue in one step, read it back, drain green, deep-check blue. */
  | { readonly type: 'rollback'; readonly reason: string }
  | { readonly type: 'probe_health' }
  | { readonly type: 'record'; readonly decision: Decision }
  | { readonly type: 'notify'; readonly event: NotifyEvent; readonly summary: string; readonly decision: Decision }
  | { readonly type: 'finish'; readonly outcome: Outcome };

/** Events behind a judgement: for a rate `sum` counts the bad events, for a point metric it is value × n. */
export interface Evidence {
  readonly n: number;
  readonly sum: number;
}

/** A rule's evidence over the current step: disjoint windows already counted, plus the last one counted. */
export interface EvidenceTrack {
  readonly prior: Evidence;
  readonly last: (Evidence & { readonly at: number }) | null;
}

export interface RuleTrack {
  readonly breachSince: number | null;
  /** Earliest bad sample (the window's `firstErrorAt`, else its start) while the condition holds. */
  readonly firstBadAt?: number | null;
  readonly green?: EvidenceTrack;
  readonly blue?: EvidenceTrack;
}

export interface Detection {
  readonly rule: string | null;
  readonly reason: string;
  /** First bad sample (null when an operator asked for the rollback). */
  readonly firstBadAt: number | null;
  readonly decidedAt: number;
  readonly verifiedAt: number | null;
}

/** The whole rollout state; plain data so it can be logged and replayed. */
export interface RolloutState {
  readonly phase: Phase;
  readonly pauseReason: PauseReason | null;
  /** Where `resume` returns to. */
  readonly pausedFrom: 'progressing' | 'baking' | null;
  readonly stepIndex: number;
  /** Green weight last requested from the traffic router. */
  readonly weight: number;
  readonly weightConfirmed: boolean;
  readonly stepStartedAt: number | null;
  readonly bakeStartedAt: number | null;
  readonly lastProbeAt: number | null;
  readonly probeInFlight: boolean;
  readonly lastProbeOk: boolean | null;
  /** Blue's deep health at the last probe (null: not reported); a rollback onto a false one is refused without `force`. */
  readonly lastBlueOk?: boolean | null;
  /** Consecutive evaluations with an analysis error (ADR 0103). */
  readonly consecutiveErrors?: number;
  /** The success criteria's evidence over the bake, keyed by metric. */
  readonly criteria?: Readonly<Record<string, EvidenceTrack>>;
  readonly rules: Readonly<Record<string, RuleTrack>>;
  readonly startedAt: number | null;
  readonly endedAt: number | null;
  readonly outcome: Outcome | null;
  /** Outcome to record once a rollback (or abort) is verified. */
  readonly rollbackOutcome: 'rolled_back' | 'aborted' | null;
  readonly rollbackRetryDue: boolean;
  readonly detection: Detection | null;
  readonly lastDecision: Decision | null;
}

export interface Transition {
  readonly state: RolloutState;
  readonly actions: readonly Action[];
}
