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
}

export interface Observation {
  /** When the window ends (the evaluation time), epoch ms. */
  readonly at: number;
  readonly windowMs: number;
  readonly green: ColorWindow;
  readonly blue: ColorWindow;
}

export type Command = 'pause' | 'resume' | 'promote' | 'abort' | 'rollback';

export type Input =
  | { readonly type: 'start' }
  | { readonly type: 'preflight_result'; readonly ok: boolean; readonly failures: readonly string[] }
  | { readonly type: 'observe'; readonly observation: Observation }
  | { readonly type: 'command'; readonly command: Command; readonly by?: string }
  /** The traffic router was read back at this weight. */
  | { readonly type: 'weight_applied'; readonly weight: number }
  | { readonly type: 'traffic_failed'; readonly weight: number; readonly error: string }
  | { readonly type: 'health_result'; readonly ok: boolean; readonly detail: string }
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

export type PauseReason = 'manual_gate' | 'rule' | 'command' | 'freeze' | 'traffic';

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
  /** The metric source has no value for this metric, or no events in the window. */
  | 'no_data';

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

export interface RuleTrack {
  readonly breachSince: number | null;
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
