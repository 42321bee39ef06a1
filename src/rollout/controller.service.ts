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
import type { RollbackVerification } from './verify-rollback.service.js';
import { writeStateFile, type PersistedRollout } from './state/state-file.js';
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
  /** The seed's post-rollback checks against blue (migrate-preflight.service.ts); a failure counts as an unhealthy blue. */
  readonly verifyRollback?: () => Promise<RollbackVerification>;
  /**
   * The core's `probe_health`: deep health of every green instance plus the expected version,
   * and blue's deep health. Default: `probeDeepHealth` of each color.
   */
  readonly probeHealth?: () => Promise<{ ok: boolean; detail: string; blue: { ok: boolean; detail: string } }>;
  /** What this rollout drives (`router http://…`); recorded in the state file for resume. */
  readonly target?: string;
  /** A persisted rollout to continue (same step, weight, rule tracks) instead of starting anew. */
  readonly resume?: PersistedRollout;
  readonly notifier?: Notifier;
  /** The `whsec_…` signing secret of a webhook, resolved from its `secretFile` or the environment. */
  readonly webhookSecretFor?: (hook: Plan['webhooks'][number]) => string | undefined;
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
  /** The last time the router's weight was read back and differed from the intended one. */
  readonly lastDrift: { readonly at: number; readonly intended: number; readonly observed: number } | null;
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
  /**
   * Stops evaluating without touching traffic and without ending the rollout: the state stays
   * unfinished on disk so a later controller resumes it (SIGTERM, a redeploy of the controller).
   */
  detach(): Promise<RolloutStatus>;
}

/** Phases whose weight the router must be serving; the controller reads it back every interval. */
const RECONCILED = new Set<RolloutState['phase']>(['progressing', 'baking', 'paused']);

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
  const notifier = deps.notifier ?? createNotifier(plan.webhooks, (url, event, ok, detail, attempt) => log.append('webhook', now(), { url, event, ok, detail, attempt }), { secretFor: deps.webhookSecretFor });
  const target = deps.target ?? 'embedded';
  let state: RolloutState = deps.resume?.state ?? createInitialState();
  let lastDrift: RolloutStatus['lastDrift'] = null;
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
      lastDrift,
    };
  }

  /** After every transition: the state a restarted controller continues from. */
  function persist(finished = result !== null): void {
    writeStateFile(deps.outputDir, { format: 1, rolloutId: deps.rolloutId, target, plan, state, eventSeq: log.readAll().at(-1)?.seq ?? 0, updatedAt: now(), finished });
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
    persist(isFinished(state));
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
        const verification = await deps.verifyRollback?.().catch((e: unknown) => ({ ok: false, checks: [{ name: 'database' as const, ok: false, detail: String(e) }] }));
        if (verification) log.append('rollback_verification', now(), { ...verification });
        const failed = verification?.checks.filter((c) => !c.ok).map((c) => `${c.name} FAILED`).join(', ');
        await feed({ type: 'rollback_verified', blueHealthy: blue.ok && (verification?.ok ?? true), detail: `${blue.detail}${failed ? `; post-rollback verification: ${failed}` : ''}${drained ? '' : '; green not confirmed drained'}`, weightVerifiedAt: verifiedAt });
        return;
      }
      case 'probe_health': {
        const probed = deps.probeHealth ? await deps.probeHealth() : { ...(await deps.probeDeepHealth('green')), blue: await deps.probeDeepHealth('blue') };
        log.append('health', now(), { color: 'green', ok: probed.ok, detail: probed.detail });
        log.append('health', now(), { color: 'blue', ok: probed.blue.ok, detail: probed.blue.detail });
        // Built apart from the call: the `blue` field is the contract's addition to health_result.
        const input = { type: 'health_result', ok: probed.ok, detail: probed.detail, blue: probed.blue } as const;
        await feed(input);
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
    persist(true);
    resolveDone(result);
    return result;
  }

  /**
   * Reads the weight the router serves and, if it differs from the one the core intends (someone
   * changed it out of band, or a restarted router came up at another weight), logs the drift and
   * re-applies the intended weight: the controller owns the weight while a rollout runs. Returns
   * an error text when the router cannot be read or corrected (an analysis error for the core).
   */
  async function reconcileWeight(at: number): Promise<string | null> {
    if (!RECONCILED.has(state.phase) || !state.weightConfirmed) return null;
    let observed: number;
    try {
      observed = await deps.traffic.readGreenWeight();
    } catch (error) {
      return `traffic ${deps.traffic.name}: cannot read the weight back: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (Math.abs(observed - state.weight) < 1e-9) return null;
    lastDrift = { at, intended: state.weight, observed };
    log.append('drift', at, { intended: state.weight, observed, action: 'reapply' });
    try {
      await applyVerifiedWeight(deps.traffic, state.weight);
      log.append('traffic', now(), { weight: state.weight, ok: true, reapplied: true });
      return null;
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      log.append('traffic', now(), { weight: state.weight, ok: false, reapplied: true, detail });
      return `traffic ${deps.traffic.name}: drift to ${observed}% not corrected: ${detail}`;
    }
  }

  /**
   * Tells the core at once when the front door has ejected a color. Blue: a rollback decided
   * between two deep probes is then not made onto a dead blue; only `unhealthy` is passed on
   * (fail closed), blue counts as healthy again only when a deep probe says so. Green: it gets no
   * traffic, so the core asks for a deep probe rather than wait for data that cannot come. A
   * front door without a health view (nginx), or one that cannot be read, changes nothing here.
   */
  async function noticeEjections(at: number): Promise<void> {
    if (!deps.traffic.readColorHealth || !RECONCILED.has(state.phase)) return;
    const view = await deps.traffic.readColorHealth().catch(() => null);
    if (view?.blue.status === 'unhealthy' && state.lastBlueOk !== false) {
      log.append('health', at, { color: 'blue', source: 'router', ok: false, detail: view.blue.detail });
      await feed({ type: 'blue_health', ok: false, detail: view.blue.detail });
    }
    if (view?.green.status === 'unhealthy' && state.weight > 0) await feed({ type: 'green_ejected', detail: view.green.detail });
  }

  /** Picks up the work the previous controller may have left half done, then lets the loop run. */
  async function resumeWork(): Promise<void> {
    const at = now();
    log.append('resumed', at, { phase: state.phase, step: state.stepIndex, weight: state.weight, pid: process.pid });
    switch (state.phase) {
      case 'pending':
        await feed({ type: 'start' });
        return;
      case 'preflight':
        await execute({ type: 'run_preflight' });
        return;
      case 'rolling_back':
        await execute({ type: 'rollback', reason: 'resumed an unfinished rollback' });
        return;
      case 'promoted':
      case 'rolled_back':
      case 'aborted':
        await finish(state.outcome ?? describeOutcomeIfStopped(state));
        return;
      default:
        if (!state.weightConfirmed) await execute({ type: 'set_weight', weight: state.weight });
        else {
          const error = await reconcileWeight(at);
          if (error) log.append('traffic', now(), { weight: state.weight, ok: false, detail: error });
        }
        if (state.probeInFlight) await execute({ type: 'probe_health' });
    }
  }

  async function tick(): Promise<void> {
    const at = now();
    let reading: SourceReading;
    try {
      reading = await deps.metrics.collect(plan.windowMs, at);
    } catch (error) {
      reading = { green: { requests: 0, metrics: {} }, blue: { requests: 0, metrics: {} }, errors: [`${deps.metrics.name}: ${error instanceof Error ? error.message : String(error)}`] };
    }
    lastReading = reading;
    const errors = [...(reading.errors ?? [])];
    const trafficError = await reconcileWeight(at);
    if (trafficError) errors.push(trafficError);
    await noticeEjections(at);
    const window = (w: SourceReading['green']) => ({ requests: w.requests, metrics: w.metrics, ...(w.firstErrorAt === undefined ? {} : { firstErrorAt: w.firstErrorAt }) });
    // `errors` and `firstErrorAt` are the contract's additions to Observation/ColorWindow.
    const observation: Observation = { at, windowMs: plan.windowMs, green: window(reading.green), blue: window(reading.blue), ...(errors.length > 0 ? { errors } : {}) };
    if (errors.length > 0) log.append('metrics_error', at, { errors });
    log.append('observation', at, { phase: state.phase, step: state.stepIndex, weight: state.weight, windowMs: plan.windowMs, green: observation.green, blue: observation.blue, errors, greenRecentErrors: (reading.green.recentErrors ?? []).slice(-5) });
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
      await enqueue(() => (deps.resume ? resumeWork() : feed({ type: 'start' })));
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
    async detach() {
      stopLoop();
      return enqueue(async () => {
        if (result) return readStatus();
        log.append('detached', now(), { phase: state.phase, step: state.stepIndex, weight: state.weight, pid: process.pid });
        persist(false);
        return readStatus();
      });
    },
  };
}
