import { BUILTIN_METRICS, type BuiltinMetric, type Plan, type Rule } from '../rollout/plan.schema.js';
import {
  PER_VERSION,
  RECORDED,
  SERVED,
  formatNumber,
  formatPromDuration,
  metricValue,
  recordedName,
  recordedRequestRate,
  recordedRequests,
  requestCount,
} from './promql.core.js';

export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
  readonly labels?: Readonly<Record<string, string>>;
}

export interface AlertingRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

export interface RuleGroup {
  readonly name: string;
  readonly interval: string;
  readonly rules: readonly (RecordingRule | AlertingRule)[];
}

/** A Prometheus rule file (`promtool check rules`), also the `spec` of a PrometheusRule. */
export interface RuleFile {
  readonly groups: readonly RuleGroup[];
}

export interface GeneratedRules {
  readonly file: RuleFile;
  /** Plan fields Prometheus alerts do not express, one line each (the CLI prints them on stderr). */
  readonly warnings: readonly string[];
}

/** The seed's post-deployment success criteria (src/rollout/report.core.ts). */
export const SUCCESS_CRITERIA = [
  { criterion: 'error_rate', metric: 'error_rate', op: '<', threshold: 0.001, target: '< 0.1%' },
  { criterion: 'p95_latency', metric: 'p95_latency_ms', op: '<', threshold: 150, target: '< 150ms' },
] as const satisfies readonly { criterion: string; metric: BuiltinMetric; op: '<'; threshold: number; target: string }[];

export function isBuiltin(metric: string): metric is BuiltinMetric {
  return (BUILTIN_METRICS as readonly string[]).includes(metric);
}

/** `error-rate` → `BokaErrorRate`. */
export function alertName(rule: Pick<Rule, 'name'>): string {
  const words = rule.name.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return `Boka${words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('')}`;
}

/** The alert's condition: the recorded metric crosses the threshold with enough traffic to judge. */
export function alertExpr(plan: Pick<Plan, 'windowMs' | 'minSamples'>, rule: Rule & { metric: BuiltinMetric }): string {
  const threshold = RECORDED[rule.metric].toRecorded(rule.threshold);
  return `${recordedName(rule.metric, plan.windowMs)} ${rule.op} ${formatNumber(threshold)} and ${recordedRequests(plan.windowMs)} >= ${plan.minSamples}`;
}

function valueTemplate(metric: BuiltinMetric): string {
  return RECORDED[metric].unit === 'seconds' ? '{{ $value | humanizeDuration }}' : '{{ $value | humanizePercentage }}';
}

function thresholdText(rule: Rule & { metric: BuiltinMetric }): string {
  return RECORDED[rule.metric].unit === 'seconds' ? `${formatNumber(rule.threshold)}ms` : `${formatNumber(rule.threshold * 100)}%`;
}

function buildRecordingRules(plan: Plan): RecordingRule[] {
  const w = plan.windowMs;
  const rules: RecordingRule[] = [
    { record: recordedRequestRate(w), expr: PER_VERSION.sum(`rate(boka_http_requests_total{${SERVED}}[${formatPromDuration(w)}])`) },
    { record: recordedRequests(w), expr: requestCount('', w, PER_VERSION) },
    ...BUILTIN_METRICS.map((m) => ({ record: recordedName(m, w), expr: metricValue(m, '', w, PER_VERSION) })),
  ];
  for (const c of SUCCESS_CRITERIA) {
    const threshold = formatNumber(RECORDED[c.metric].toRecorded(c.threshold));
    rules.push({
      record: 'version:boka_release_success:ok',
      expr: `(${recordedName(c.metric, w)} ${c.op} bool ${threshold}) and ${recordedRequests(w)} >= ${plan.minSamples}`,
      labels: { criterion: c.criterion, target: c.target },
    });
  }
  return rules;
}

function buildAlert(plan: Plan, rule: Rule & { metric: BuiltinMetric }): AlertingRule {
  return {
    alert: alertName(rule),
    expr: alertExpr(plan, rule),
    ...(rule.forMs > 0 ? { for: formatPromDuration(rule.forMs) } : {}),
    labels: { severity: rule.action === 'rollback' ? 'critical' : 'warning', boka_rule: rule.name, rollout_action: rule.action },
    annotations: {
      summary: `Boka {{ $labels.version }}: ${rule.metric} ${rule.op} ${thresholdText(rule)}${rule.forMs > 0 ? ` for ${formatPromDuration(rule.forMs)}` : ''}`,
      description: `${rule.metric} of version {{ $labels.version }} is ${valueTemplate(rule.metric)} over the last ${formatPromDuration(plan.windowMs)} (plan rule "${rule.name}", action ${rule.action}; at least ${plan.minSamples} requests in the window).`,
    },
  };
}

/**
 * Recording rules (per version: request rate and count, the five rule metrics, the seed's
 * success criteria) and one alert per plan rule with the plan's threshold, `for` and minSamples.
 */
export function buildPrometheusRules(plan: Plan): GeneratedRules {
  const warnings: string[] = [];
  const alerts: AlertingRule[] = [];
  for (const rule of plan.rules) {
    if (!isBuiltin(rule.metric)) {
      warnings.push(`rules "${rule.name}": custom metric with a $color query has no per-version series; no alert generated`);
      continue;
    }
    alerts.push(buildAlert(plan, rule as Rule & { metric: BuiltinMetric }));
    if (rule.compareWithBlue) {
      warnings.push(`rules "${rule.name}": compareWithBlue is not part of the alert (a monitoring alert should fire on a shared outage too); the Argo analysis keeps it`);
    }
  }
  const interval = formatPromDuration(plan.intervalMs);
  return {
    file: {
      groups: [
        { name: 'boka-rollout.recording', interval, rules: buildRecordingRules(plan) },
        { name: 'boka-rollout.alerts', interval, rules: alerts },
      ],
    },
    warnings,
  };
}
