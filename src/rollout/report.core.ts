import { formatDuration } from './duration.core.js';
import type { Decision, Detection, Outcome, RuleEvaluation } from './decision.types.js';
import type { LoggedEvent } from './event-log.js';
import { formatMetric } from './format.core.js';

interface SeriesPoint {
  readonly at: number;
  readonly green: { requests: number; errorRate: number | null; p95Ms: number | null; dbErrorRate: number | null };
  readonly blue: { requests: number; errorRate: number | null; p95Ms: number | null; dbErrorRate: number | null };
}

export interface StepReport {
  readonly index: number;
  readonly weight: number;
  readonly startedAt: number;
  readonly endedAt: number | null;
  readonly series: readonly SeriesPoint[];
}

export interface Criterion {
  readonly name: string;
  readonly value: string;
  readonly target: string;
  readonly pass: boolean;
}

/** The machine-readable report; `outcome`, `timeToDetectMs`, `timeToRollbackMs`, `steps` are a contract. */
export interface RolloutReport {
  readonly rolloutId: string;
  readonly outcome: Outcome;
  readonly startedAt: number | null;
  readonly endedAt: number;
  readonly timeToDetectMs: number | null;
  readonly timeToRollbackMs: number | null;
  readonly steps: readonly StepReport[];
  readonly timeline: readonly { at: number; kind: string; message: string }[];
  readonly incident: {
    readonly reason: string;
    readonly rule: RuleEvaluation | null;
    readonly firstBadAt: number | null;
    readonly decidedAt: number;
    readonly verifiedAt: number | null;
    readonly lastErrors: readonly unknown[];
  } | null;
  readonly blueVerification: { readonly ok: boolean; readonly detail: string } | null;
  /** The seed's post-rollback checks against blue (database, sessions, login, permissions); null without a rollback. */
  readonly rollbackVerification: { readonly ok: boolean; readonly checks: readonly { name: string; ok: boolean; detail: string }[] } | null;
  /** Blue's last deep health before the rollback decision (probed at every step and bake interval); null without a rollback or a probe. */
  readonly blueBeforeRollback?: { readonly ok: boolean; readonly detail: string; readonly at: number } | null;
  readonly successCriteria: readonly Criterion[] | null;
  readonly routineEvaluations: number;
}

const ROUTINE = new Set(['healthy', 'hold', 'insufficient_data']);

type ObservedColor = { requests: number; metrics: Record<string, { value: number; samples: number } | undefined> };

function point(c: ObservedColor) {
  return {
    requests: c.requests,
    errorRate: c.metrics.error_rate?.value ?? null,
    p95Ms: c.metrics.p95_latency_ms?.value ?? null,
    dbErrorRate: c.metrics.db_error_rate?.value ?? null,
  };
}

/**
 * Builds report.json and report.md from the event log alone, so a report can be rebuilt from
 * `events.jsonl` after the fact. Pure.
 */
export function buildReport(input: { rolloutId: string; outcome: Outcome; endedAt: number; detection: Detection | null; events: readonly LoggedEvent[] }): { json: RolloutReport; markdown: string } {
  const decisions = input.events.filter((e) => e.type === 'decision') as unknown as (Decision & { seq: number })[];
  const observations = input.events.filter((e) => e.type === 'observation') as unknown as { at: number; step: number; green: ObservedColor; blue: ObservedColor; greenRecentErrors?: unknown[] }[];
  const healthEvents = input.events.filter((e) => e.type === 'health') as unknown as { color: string; ok: boolean; detail: string }[];
  const preflight = input.events.find((e) => e.type === 'preflight') as unknown as { ok: boolean; checks: { ok: boolean }[] } | undefined;

  const starts = decisions.filter((d) => d.kind === 'weight_applied' || d.kind === 'bake_started');
  const steps: StepReport[] = starts.map((d, i) => {
    const endedAt = starts[i + 1]?.at ?? (decisions.find((x) => x.at >= d.at && ['rollback', 'abort', 'complete', 'freeze'].includes(x.kind))?.at ?? null);
    return {
      index: d.step,
      weight: d.weight,
      startedAt: d.at,
      endedAt,
      series: observations.filter((o) => o.at >= d.at && (endedAt === null || o.at <= endedAt)).map((o) => ({ at: o.at, green: point(o.green), blue: point(o.blue) })),
    };
  });

  const detection = input.detection;
  const rollbackDecision = decisions.find((d) => d.kind === 'rollback' || d.kind === 'abort');
  const verified = decisions.find((d) => d.kind === 'rollback_verified');
  const lastObservation = observations.at(-1);
  const incident = detection && rollbackDecision
    ? {
        reason: detection.reason,
        rule: rollbackDecision.rule ?? null,
        firstBadAt: detection.firstBadAt,
        decidedAt: detection.decidedAt,
        verifiedAt: detection.verifiedAt,
        lastErrors: (observations.filter((o) => o.at <= detection.decidedAt).at(-1) ?? lastObservation)?.greenRecentErrors ?? [],
      }
    : null;
  const blueHealth = healthEvents.filter((h) => h.color === 'blue').at(-1);
  const rollbackChecks = input.events.filter((e) => e.type === 'rollback_verification').at(-1) as unknown as RolloutReport['rollbackVerification'] | undefined;
  const rollbackAt = decisions.find((d) => d.kind === 'rollback' || d.kind === 'abort')?.at;
  const blueBefore = rollbackAt === undefined ? undefined : (input.events.filter((e) => e.type === 'health' && e.color === 'blue' && e.at <= rollbackAt).at(-1) as unknown as { ok: boolean; detail: string; at: number } | undefined);

  const json: RolloutReport = {
    rolloutId: input.rolloutId,
    outcome: input.outcome,
    startedAt: decisions[0]?.at ?? null,
    endedAt: input.endedAt,
    timeToDetectMs: detection && detection.firstBadAt !== null ? detection.decidedAt - detection.firstBadAt : null,
    timeToRollbackMs: detection && detection.verifiedAt !== null ? detection.verifiedAt - detection.decidedAt : null,
    steps,
    timeline: decisions.filter((d) => !ROUTINE.has(d.kind)).map((d) => ({ at: d.at, kind: d.kind, message: d.message })),
    incident,
    blueVerification: verified ? { ok: blueHealth?.ok ?? false, detail: blueHealth?.detail ?? verified.message } : null,
    rollbackVerification: rollbackChecks ? { ok: rollbackChecks.ok, checks: rollbackChecks.checks.map((c) => ({ name: c.name, ok: c.ok, detail: c.detail })) } : null,
    blueBeforeRollback: blueBefore ? { ok: blueBefore.ok, detail: blueBefore.detail, at: blueBefore.at } : null,
    successCriteria: input.outcome === 'promoted' ? evaluateSuccess(observations, healthEvents, preflight) : null,
    routineEvaluations: decisions.filter((d) => ROUTINE.has(d.kind)).length,
  };
  return { json, markdown: renderMarkdown(json) };
}

/** Green's own numbers over every window in which green served traffic. */
function evaluateSuccess(observations: readonly { green: ObservedColor }[], health: readonly { color: string; ok: boolean }[], preflight: { ok: boolean } | undefined): Criterion[] {
  let requests = 0;
  let errors = 0;
  let p95Weighted = 0;
  let p95Requests = 0;
  let dbErrors = 0;
  for (const o of observations) {
    const g = o.green;
    if (g.requests === 0) continue;
    requests += g.requests;
    errors += (g.metrics.error_rate?.value ?? 0) * g.requests;
    dbErrors += (g.metrics.db_error_rate?.value ?? 0) * g.requests;
    const p95 = g.metrics.p95_latency_ms?.value;
    if (p95 !== undefined) {
      p95Weighted += p95 * g.requests;
      p95Requests += g.requests;
    }
  }
  const errorRate = requests ? errors / requests : null;
  const p95 = p95Requests ? p95Weighted / p95Requests : null;
  const greenHealth = health.filter((h) => h.color === 'green');
  const healthOk = (preflight?.ok ?? false) && greenHealth.every((h) => h.ok);
  return [
    { name: 'error rate', value: errorRate === null ? 'no data' : formatMetric('error_rate', errorRate), target: '< 0.1%', pass: errorRate !== null && errorRate < 0.001 },
    { name: 'p95 latency (request-weighted mean of windows)', value: p95 === null ? 'no data' : formatMetric('p95_latency_ms', p95), target: '< 150ms', pass: p95 !== null && p95 < 150 },
    { name: 'database errors', value: String(Math.round(dbErrors)), target: '0', pass: Math.round(dbErrors) === 0 },
    { name: 'health checks', value: `${greenHealth.filter((h) => h.ok).length}/${greenHealth.length} bake probes ok, preflight ${preflight?.ok ? 'ok' : 'failed'}`, target: 'all passing', pass: healthOk },
  ];
}

function iso(at: number | null): string {
  return at === null ? '-' : new Date(at).toISOString();
}

function cell(v: number | null, metric: string): string {
  return v === null ? '-' : formatMetric(metric, v);
}

function renderMarkdown(r: RolloutReport): string {
  const lines: string[] = [];
  lines.push(`# Rollout ${r.rolloutId}: ${r.outcome.replace('_', ' ')}`, '');
  lines.push(`- Started: ${iso(r.startedAt)}`, `- Ended: ${iso(r.endedAt)}`);
  if (r.timeToDetectMs !== null) lines.push(`- Time to detect (first bad sample → decision): ${formatDuration(r.timeToDetectMs)}`);
  if (r.timeToRollbackMs !== null) lines.push(`- Time to rollback (decision → all traffic on blue, read back): ${formatDuration(r.timeToRollbackMs)}`);
  lines.push('');
  if (r.incident) {
    lines.push('## Incident', '', `- Reason: ${r.incident.reason}`);
    const rule = r.incident.rule;
    if (rule) {
      lines.push(`- Rule: \`${rule.rule}\` (${rule.metric} ${rule.op} ${formatMetric(rule.metric, rule.threshold)}${rule.forMs ? ` for ${formatDuration(rule.forMs)}` : ''}, action ${rule.action})`);
      lines.push(`- Green: ${rule.green ? `${formatMetric(rule.metric, rule.green.value)} over ${rule.green.samples} samples` : 'n/a'}; blue: ${rule.blue ? `${formatMetric(rule.metric, rule.blue.value)} over ${rule.blue.samples} samples` : 'n/a'}${rule.comparedWithBlue ? '' : ' (not compared)'}`);
    }
    lines.push(`- First bad sample: ${iso(r.incident.firstBadAt)}; decision: ${iso(r.incident.decidedAt)}; verified on blue: ${iso(r.incident.verifiedAt)}`);
    if (r.incident.lastErrors.length) {
      lines.push('', 'Last errors seen on green:', '', '| at | method | path | status | detail |', '|---|---|---|---|---|');
      for (const e of r.incident.lastErrors as { at: number; method: string; path: string; status: number; detail: string | null }[]) {
        lines.push(`| ${iso(e.at)} | ${e.method} | ${e.path} | ${e.status} | ${(e.detail ?? '').replace(/\|/g, '/')} |`);
      }
    }
    lines.push('');
  }
  if (r.blueBeforeRollback) lines.push('## Blue before the rollback', '', `Blue deep health at ${new Date(r.blueBeforeRollback.at).toISOString()}: ${r.blueBeforeRollback.ok ? 'passing' : 'FAILING'} (${r.blueBeforeRollback.detail})`, '');
  if (r.blueVerification) lines.push('## After rollback', '', `Blue deep health: ${r.blueVerification.ok ? 'passing' : 'FAILING'} (${r.blueVerification.detail})`, '');
  if (r.rollbackVerification) {
    lines.push('## Post-rollback verification', '', `Against blue: ${r.rollbackVerification.ok ? 'all checks pass' : 'FAILED (rollback_failed)'}`, '', '| check | result | detail |', '|---|---|---|');
    for (const c of r.rollbackVerification.checks) lines.push(`| ${c.name} | ${c.ok ? 'pass' : 'FAIL'} | ${c.detail.replace(/\|/g, '/')} |`);
    lines.push('');
  }
  lines.push('## Steps', '');
  for (const s of r.steps) {
    lines.push(`### ${s.weight}% green (from ${iso(s.startedAt)}${s.endedAt ? ` for ${formatDuration(s.endedAt - s.startedAt)}` : ''})`, '');
    if (s.series.length === 0) {
      lines.push('No evaluations.', '');
      continue;
    }
    lines.push('| at | green req | green err | green p95 | blue req | blue err | blue p95 |', '|---|---|---|---|---|---|---|');
    for (const p of s.series) {
      lines.push(`| ${iso(p.at).slice(11, 19)} | ${p.green.requests} | ${cell(p.green.errorRate, 'error_rate')} | ${cell(p.green.p95Ms, 'p95_latency_ms')} | ${p.blue.requests} | ${cell(p.blue.errorRate, 'error_rate')} | ${cell(p.blue.p95Ms, 'p95_latency_ms')} |`);
    }
    lines.push('');
  }
  lines.push('## Timeline', '', `(${r.routineEvaluations} routine evaluations omitted; all are in events.jsonl)`, '');
  for (const t of r.timeline) lines.push(`- ${iso(t.at)} **${t.kind}**: ${t.message}`);
  lines.push('');
  if (r.successCriteria) {
    lines.push('## Success criteria (green\'s own numbers)', '', '| criterion | value | target | result |', '|---|---|---|---|');
    for (const c of r.successCriteria) lines.push(`| ${c.name} | ${c.value} | ${c.target} | ${c.pass ? 'pass' : 'FAIL'} |`);
    lines.push('');
  }
  return lines.join('\n');
}
