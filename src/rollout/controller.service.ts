import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInitialState, decide, describeOutcomeIfStopped, isFinished } from './decision.core.js';
import type { Action, Color, Command, Decision, Input, Observation, Outcome, RolloutState } from './decision.types.js';
import { createEventLog, type EventLog, type LoggedEvent } from './event-log.js';
import type { MetricSource, SourceReading } from './metrics/metric-source.js';
import type { Plan } from './plan.schema.js';
import type { PreflightResult } from './preflight.service.js';
import { buildReport, type RolloutReport } from './report.core.js';
import { applyVerifiedWeight, type TrafficRouter } from './traffic/traffic-router.js';
import { createNotifier, type Notifier } from './webhooks.js';

export interface ControllerDeps {
  readonly plan: Plan;
  readonly rolloutId: string;
  /** Where events.jsonl, report.json and report.md go (`rollouts/<id>/` by default). */
  readonly outputDir: string;
  readonly traffic: TrafficRouter;
  readonly metrics: MetricSource;
  readonly runPreflight: () => Promise<PreflightResult>;
  readonly probeDeepHealth: (color: Color) => Promise<{ ok: boolean; detail: string }>;
  readonly notifier?: Notifier;
  readonly now?: () => number;
  /** Called after every state change (the live view redraws on it). */
  readonly onChange?: (status: RolloutStatus) => void;
}

/** What `boka rollout status` and the live view show. */
export interface RolloutStatus {
  readonly rolloutId: string;
  readonly phase: RolloutState['phase'];
  readonly pauseReason: RolloutState['pauseReason'];
  readonly step: number;
  readonly steps: number;
  readonly weight: number;
  readonly startedAt: number | null;
  readonly outcome: Outcome | null;
  readonly lastDecision: Decision | null;
  readonly lastReading: SourceReading | null;
  readonly detection: RolloutState['detection'];
  readonly outputDir: string;
}

export interface ControllerResult {
  readonly outcome: Outcome;
  readonly report: RolloutReport;
  readonly reportPath: string;
}

export interface RolloutController {
  start(): Promise<void>;
  readStatus(): RolloutStatus;
  /** `force` only matters for `rollback` (onto a blue whose last deep health failed). */
  sendCommand(command: Command, by: string, options?: { readonly force?: boolean }): Promise<{ accepted: boolean; message: string }>;
  /** Logged events with `seq > afterSeq`, oldest first (the dashboard's history). */
  readEvents(afterSeq: number): readonly LoggedEvent[];
  /** Resolves when the rollout finishes (promoted, rolled back, aborted). */
  readonly done: Promise<ControllerResult>;
  /** Stops evaluating without touching traffic and writes the report (outcome `paused` if paused). */
  stop(): Promise<ControllerResult>;
}

/**
 * Wires the pure decision core to the ports: it executes the core's actions one at a time
 * (a serial queue, so inputs never interleave), feeds their results back, evaluates every
 * interval, and writes the event log and the final report.
 */
export function createRolloutController(deps: ControllerDeps): RolloutController {
  const now = deps.now ?? Date.now;
  const { plan } = deps;
  mkdirSync(deps.outputDir, { recursive: true });
  const log: EventLog = createEventLog(join(deps.outputDir, 'events.jsonl'));
  const notifier = deps.notifier ?? createNotifier(plan.webhooks, (url, event, ok, detail) => log.append('webhook', now(), { url, event, ok, detail }));
  let state: RolloutState = createInitialState();
  let lastReading: SourceReading | null = null;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let queue: Promise<unknown> = Promise.resolve();
  let resolveDone!: (r: ControllerResult) => void;
  const done = new Promise<ControllerResult>((resolve) => (resolveDone = resolve));
  let result: ControllerResult | null = null;

  function readStatus(): RolloutStatus {
    return {
      rolloutId: deps.rolloutId,
      phase: state.phase,
      pauseReason: state.pauseReason,
      step: state.stepIndex,
      steps: plan.steps.length,
      weight: state.weight,
      startedAt: state.startedAt,
      outcome: state.outcome,
      lastDecision: state.lastDecision,
      lastReading,
      detection: state.detection,
      outputDir: deps.outputDir,
    };
  }

  function enqueue<T>(work: () => Promise<T>): Promise<T> {
    const next = queue.then(work);
    queue = next.catch((error: unknown) => {
      log.append('controller_error', now(), { error: error instanceof Error ? error.stack ?? error.message : String(error) });
    });
    return next;
  }

  async function feed(input: Input): Promise<void> {
    const transition = decide(plan, state, input, now());
    state = transition.state;
    for (const action of transition.actions) await execute(action);
    deps.onChange?.(readStatus());
  }

  async function execute(action: Action): Promise<void> {
    switch (action.type) {
      case 'record':
        log.append('decision', action.decision.at, { ...action.decision });
        return;
      case 'notify':
        notifier.notify(action.event, { rolloutId: deps.rolloutId, summary: action.summary, phase: action.decision.phase, step: action.decision.step, weight: action.decision.weight, at: new Date(action.decision.at).toISOString() });
        return;
      case 'run_preflight': {
        const pre = await deps.runPreflight();
        log.append('preflight', now(), { ok: pre.ok, checks: pre.checks });
        await feed({ type: 'preflight_result', ok: pre.ok, failures: pre.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`) });
        return;
      }
      case 'set_weight':
        try {
          await applyVerifiedWeight(deps.traffic, action.weight);
          log.append('traffic', now(), { weight: action.weight, ok: true });
          await feed({ type: 'weight_applied', weight: action.weight });
        } catch (error) {
          const detail = error instanceof Error ? error.message : String(error);
          log.append('traffic', now(), { weight: action.weight, ok: false, detail });
          await feed({ type: 'traffic_failed', weight: action.weight, error: detail });
        }
        return;
      case 'rollback': {
        let verifiedAt: number;
        try {
          await applyVerifiedWeight(deps.traffic, 0);
          verifiedAt = now();
          log.append('traffic', verifiedAt, { weight: 0, ok: true, rollback: true });
        } catch (error) {
          const detail = error instanceof Error ? error.message : String(error);
          log.append('traffic', now(), { weight: 0, ok: false, rollback: true, detail });
          await feed({ type: 'traffic_failed', weight: 0, error: detail });
          return;
        }
        const drained = await deps.traffic.drainGreen(plan.drainTimeoutMs).catch(() => false);
        log.append('drain', now(), { color: 'green', drained });
        const blue = await deps.probeDeepHealth('blue');
        log.append('health', now(), { color: 'blue', ...blue });
        await feed({ type: 'rollback_verified', blueHealthy: blue.ok, detail: `${blue.detail}${drained ? '' : '; green not confirmed drained'}`, weightVerifiedAt: verifiedAt });
        return;
      }
      case 'probe_health': {
        const green = await deps.probeDeepHealth('green');
        log.append('health', now(), { color: 'green', ...green });
        await feed({ type: 'health_result', ok: green.ok, detail: green.detail });
        return;
      }
      case 'finish':
        await finish(action.outcome);
        return;
    }
  }

  async function finish(outcome: Outcome): Promise<ControllerResult> {
    if (result) return result;
    stopLoop();
    await notifier.flush();
    const endedAt = now();
    const { json, markdown } = buildReport({ rolloutId: deps.rolloutId, outcome, endedAt, detection: state.detection, events: log.readAll() });
    const reportPath = join(deps.outputDir, 'report.md');
    writeFileSync(join(deps.outputDir, 'report.json'), `${JSON.stringify(json, null, 2)}\n`);
    writeFileSync(reportPath, markdown);
    result = { outcome, report: json, reportPath };
    resolveDone(result);
    return result;
  }

  async function tick(): Promise<void> {
    const at = now();
    let reading: SourceReading;
    try {
      reading = await deps.metrics.collect(plan.windowMs, at);
    } catch (error) {
      log.append('metrics_error', at, { error: error instanceof Error ? error.message : String(error) });
      reading = { green: { requests: 0, metrics: {} }, blue: { requests: 0, metrics: {} } };
    }
    lastReading = reading;
    const observation: Observation = { at, windowMs: plan.windowMs, green: { requests: reading.green.requests, metrics: reading.green.metrics }, blue: { requests: reading.blue.requests, metrics: reading.blue.metrics } };
    log.append('observation', at, { phase: state.phase, step: state.stepIndex, weight: state.weight, windowMs: plan.windowMs, green: observation.green, blue: observation.blue, greenRecentErrors: (reading.green.recentErrors ?? []).slice(-5) });
    await feed({ type: 'observe', observation });
  }

  function scheduleTick(): void {
    if (stopped || isFinished(state)) return;
    timer = setTimeout(() => {
      timer = null;
      void enqueue(tick).finally(scheduleTick);
    }, plan.intervalMs);
  }

  function stopLoop(): void {
    stopped = true;
    if (timer) clearTimeout(timer);
    timer = null;
  }

  return {
    async start() {
      await enqueue(() => feed({ type: 'start' }));
      if (!isFinished(state)) scheduleTick();
    },
    readStatus,
    async sendCommand(command, by, options) {
      const force = options?.force === true;
      return enqueue(async () => {
        log.append('command', now(), { command, by, ...(force ? { force } : {}) });
        await feed({ type: 'command', command, by, ...(force ? { force } : {}) });
        const d = state.lastDecision;
        return { accepted: d?.kind !== 'rejected', message: d?.message ?? '' };
      });
    },
    readEvents: (afterSeq) => log.readAll().filter((e) => e.seq > afterSeq),
    done,
    async stop() {
      stopLoop();
      return enqueue(() => finish(describeOutcomeIfStopped(state)));
    },
  };
}
