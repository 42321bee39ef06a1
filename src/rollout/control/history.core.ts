import type { ColorWindow, Color } from '../decision.types.js';
import type { LoggedEvent } from '../event-log.js';

/** One colour at one evaluation, as the dashboard's charts plot it. */
export interface ColorPoint {
  /** Judged requests per second over the evaluation window. */
  readonly requestRate: number;
  readonly requests: number;
  /** Fraction (0.012 = 1.2 %); null when the source had no value. */
  readonly errorRate: number | null;
  readonly p95Ms: number | null;
}

/** One evaluation of the rollout (an `observation` line of events.jsonl). */
export interface EvaluationPoint {
  readonly seq: number;
  readonly at: number;
  readonly phase: string;
  readonly step: number;
  readonly weight: number;
  readonly windowMs: number;
  readonly blue: ColorPoint;
  readonly green: ColorPoint;
  /** Metric-source failures of this evaluation, when the controller logged them. */
  readonly errors?: readonly string[];
}

/** One line of the decision log: a decision, an operator command, or a failure worth seeing. */
export interface LogEntry {
  readonly seq: number;
  readonly at: number;
  readonly type: string;
  /** The decision kind (`advance`, `rollback`, …) or the event type. */
  readonly kind: string;
  readonly message: string;
  readonly phase?: string;
  readonly step?: number;
  readonly weight?: number;
  /** Each rule's judgement as the core reported it (every field it has: samples, confidence, …). */
  readonly evaluations?: readonly Record<string, unknown>[];
  /** The analysis errors behind a decision (metric-source failures, rules that could not be evaluated). */
  readonly errors?: readonly string[];
}

export interface HistoryPage {
  readonly evaluations: readonly EvaluationPoint[];
  readonly log: readonly LogEntry[];
  /** The last seq in this page; ask for `after=lastSeq` next. Equals `after` when nothing is new. */
  readonly lastSeq: number;
  /** True when the page was cut at `limit` events and more are waiting. */
  readonly more: boolean;
}

/** The log lines besides decisions that an operator wants in the decision log. */
const LOGGED_TYPES = new Set(['command', 'preflight', 'traffic', 'health', 'drain', 'metrics_error', 'controller_error', 'webhook']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function metricValue(window: Record<string, unknown>, name: string): number | null {
  const metrics = isRecord(window.metrics) ? window.metrics : {};
  const metric = metrics[name];
  return isRecord(metric) ? num(metric.value) : null;
}

function toColorPoint(raw: unknown, windowMs: number): ColorPoint {
  const window: Partial<ColorWindow> & Record<string, unknown> = isRecord(raw) ? raw : {};
  const requests = num(window.requests) ?? 0;
  return {
    requests,
    requestRate: windowMs > 0 ? requests / (windowMs / 1000) : 0,
    errorRate: metricValue(window, 'error_rate'),
    p95Ms: metricValue(window, 'p95_latency_ms'),
  };
}

function toEvaluation(e: LoggedEvent): EvaluationPoint {
  const windowMs = num(e.windowMs) ?? 0;
  const colors = Object.fromEntries((['blue', 'green'] as const).map((c: Color) => [c, toColorPoint(e[c], windowMs)])) as Record<Color, ColorPoint>;
  const errors = Array.isArray(e.errors) ? e.errors.filter((x): x is string => typeof x === 'string') : undefined;
  return {
    seq: e.seq,
    at: e.at,
    phase: typeof e.phase === 'string' ? e.phase : '',
    step: num(e.step) ?? -1,
    weight: num(e.weight) ?? 0,
    windowMs,
    ...colors,
    ...(errors && errors.length > 0 ? { errors } : {}),
  };
}

/** A short text for a non-decision event, so the log reads as sentences. */
function describeEvent(e: LoggedEvent): string {
  switch (e.type) {
    case 'command':
      return `${String(e.command)} by ${String(e.by ?? 'operator')}${e.force ? ' (force)' : ''}`;
    case 'traffic':
      return `weight ${String(e.weight)}% ${e.ok ? 'applied and read back' : `failed: ${String(e.detail ?? '')}`}`;
    case 'health':
      return `${String(e.color)} deep health ${e.ok ? 'ok' : 'FAILED'}: ${String(e.detail ?? '')}`;
    case 'preflight':
      return `preflight ${e.ok ? 'passed' : 'failed'}`;
    case 'drain':
      return `green ${e.drained ? 'drained' : 'not confirmed drained'}`;
    case 'webhook':
      return `webhook ${String(e.event)} → ${e.ok ? 'delivered' : `failed: ${String(e.detail ?? '')}`}`;
    default:
      return String(e.error ?? e.detail ?? '');
  }
}

function toLogEntry(e: LoggedEvent): LogEntry {
  if (e.type === 'decision') {
    const evaluations = Array.isArray(e.evaluations) ? e.evaluations.filter(isRecord) : undefined;
    const errors = Array.isArray(e.errors) ? e.errors.filter((x): x is string => typeof x === 'string') : [];
    return {
      seq: e.seq,
      at: e.at,
      type: e.type,
      kind: String(e.kind),
      message: String(e.message ?? ''),
      phase: String(e.phase),
      step: num(e.step) ?? -1,
      weight: num(e.weight) ?? 0,
      ...(evaluations ? { evaluations } : {}),
      ...(errors.length > 0 ? { errors } : {}),
    };
  }
  return { seq: e.seq, at: e.at, type: e.type, kind: e.type, message: describeEvent(e) };
}

/**
 * The dashboard's view of the event log after `after`: each evaluation's per-colour series and
 * the decision log (with every rule judgement the core logged). At most `limit` events are read
 * so one request stays small; the caller pages with `lastSeq`.
 */
export function buildHistoryPage(events: readonly LoggedEvent[], after: number, limit: number): HistoryPage {
  const fresh = events.filter((e) => e.seq > after);
  const page = fresh.slice(0, limit);
  const evaluations: EvaluationPoint[] = [];
  const log: LogEntry[] = [];
  for (const e of page) {
    if (e.type === 'observation') evaluations.push(toEvaluation(e));
    else if (e.type === 'decision' || LOGGED_TYPES.has(e.type)) log.push(toLogEntry(e));
  }
  return { evaluations, log, lastSeq: page.at(-1)?.seq ?? after, more: fresh.length > page.length };
}
