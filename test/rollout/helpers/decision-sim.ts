import { createInitialState, decide } from '../../../src/rollout/decision.core.js';
import type { Action, ColorWindow, Decision, Input, RolloutState } from '../../../src/rollout/decision.types.js';
import type { Plan } from '../../../src/rollout/plan.schema.js';

export interface WindowSpec {
  requests: number;
  errorRate?: number;
  p95?: number;
  dbErrorRate?: number;
  sessionFailureRate?: number;
  authFailureRate?: number;
  /** Epoch ms of the window's earliest failed request. */
  firstErrorAt?: number;
}

/** Builds one color's window the way a metric source would report it. */
export function buildWindow(spec: WindowSpec): ColorWindow {
  const metrics: Record<string, { value: number; samples: number }> = {};
  if (spec.requests > 0) {
    metrics.error_rate = { value: spec.errorRate ?? 0, samples: spec.requests };
    if (spec.p95 !== undefined) metrics.p95_latency_ms = { value: spec.p95, samples: spec.requests };
    metrics.db_error_rate = { value: spec.dbErrorRate ?? 0, samples: spec.requests };
    if (spec.sessionFailureRate !== undefined) metrics.session_failure_rate = { value: spec.sessionFailureRate, samples: spec.requests };
    metrics.auth_failure_rate = { value: spec.authFailureRate ?? 0, samples: spec.requests };
  }
  return { requests: spec.requests, metrics, ...(spec.firstErrorAt === undefined ? {} : { firstErrorAt: spec.firstErrorAt }) };
}

/**
 * Drives the pure decision core with a simulated clock and a well-behaved fake controller:
 * weights are read back at once, health probes answer `healthOk`, rollbacks verify at once.
 * Each automatic reply is a separate input, exactly as the real controller feeds them.
 */
export class DecisionSim {
  state: RolloutState = createInitialState();
  now = 1_000_000;
  readonly actions: Action[] = [];
  healthOk = true;
  /** Blue's deep health in each health result; null leaves `blue` out. */
  blueHealthOk: boolean | null = null;
  /** Metric-source errors put in every observation. */
  sourceErrors: string[] = [];
  autoAckWeights = true;
  weightFails = false;
  autoVerifyRollback = true;

  constructor(readonly plan: Plan) {}

  send(input: Input): readonly Action[] {
    const { state, actions } = decide(this.plan, this.state, input, this.now);
    this.state = state;
    this.actions.push(...actions);
    for (const action of actions) this.reply(action);
    return actions;
  }

  private reply(action: Action): void {
    if (action.type === 'set_weight' && this.autoAckWeights) {
      this.send(this.weightFails ? { type: 'traffic_failed', weight: action.weight, error: 'router unreachable' } : { type: 'weight_applied', weight: action.weight });
    } else if (action.type === 'probe_health') {
      const blue = this.blueHealthOk === null ? {} : { blue: { ok: this.blueHealthOk, detail: this.blueHealthOk ? 'deep ok' : 'blue db: down' } };
      this.send({ type: 'health_result', ok: this.healthOk, detail: this.healthOk ? 'deep ok' : 'db: down', ...blue });
    } else if (action.type === 'rollback' && this.autoVerifyRollback) {
      this.send({ type: 'rollback_verified', blueHealthy: this.blueHealthOk !== false, detail: this.blueHealthOk === false ? 'blue db: down' : 'deep ok' });
    }
  }

  startHealthy(): void {
    this.send({ type: 'start' });
    this.send({ type: 'preflight_result', ok: true, failures: [] });
  }

  observe(green: WindowSpec, blue: WindowSpec = { requests: 1000 }): readonly Action[] {
    return this.send({
      type: 'observe',
      observation: {
        at: this.now,
        windowMs: this.plan.windowMs,
        green: buildWindow(green),
        blue: buildWindow(blue),
        ...(this.sourceErrors.length > 0 ? { errors: [...this.sourceErrors] } : {}),
      },
    });
  }

  /** Advances the clock one interval at a time, observing the same windows, for `ms`. */
  run(ms: number, green: WindowSpec, blue: WindowSpec = { requests: 1000 }): void {
    const end = this.now + ms;
    while (this.now < end && !['promoted', 'rolled_back', 'aborted'].includes(this.state.phase)) {
      this.now += this.plan.intervalMs;
      this.observe(green, blue);
    }
  }

  get decisions(): Decision[] {
    return this.actions.flatMap((a) => (a.type === 'record' ? [a.decision] : []));
  }

  get weights(): number[] {
    return this.actions.flatMap((a) => (a.type === 'set_weight' ? [a.weight] : []));
  }

  /** The notify events sent so far, in order. */
  get notified(): string[] {
    return this.actions.flatMap((a) => (a.type === 'notify' ? [a.event] : []));
  }

  count(type: Action['type']): number {
    return this.actions.filter((a) => a.type === type).length;
  }

  kinds(): string[] {
    return this.decisions.map((d) => d.kind);
  }
}
