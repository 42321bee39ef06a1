import type { BuiltinMetric, Plan, Rule, RuleOp } from '../rollout/plan.schema.js';
import { RECORDED, TOTAL, formatNumber, formatPromDuration, metricValue, requestCount } from './promql.core.js';
import { isBuiltin } from './prometheus-rules.core.js';

/** Argo's template for the canary's version (the `version` label of every Boka series). */
export const CANARY_VERSION = '{{args.canary-version}}';
/** Measurement sentinels: below `minSamples` green requests, and "crossed, but so is stable". */
export const INSUFFICIENT_DATA = -1;
export const EXCUSED = -2;

export interface AnalysisMetric {
  readonly name: string;
  readonly interval: string;
  readonly initialDelay: string;
  readonly failureLimit: number;
  readonly inconclusiveLimit: number;
  readonly consecutiveErrorLimit: number;
  readonly successCondition: string;
  readonly failureCondition: string;
  readonly provider: { readonly prometheus: { readonly address: string; readonly query: string } };
}

const NEGATE: Record<RuleOp, RuleOp> = { '>': '<=', '>=': '<', '<': '>=', '<=': '>' };
/** A `>` rule holds for the whole `for` window when even its minimum over the window crosses. */
const HELD: Record<RuleOp, string> = { '>': 'min_over_time', '>=': 'min_over_time', '<': 'max_over_time', '<=': 'max_over_time' };

/**
 * The PromQL of one plan rule for Argo. It returns one number whose sign carries the verdict
 * the decision core would reach, so the conditions stay simple:
 *  - the rule's value (held over `for` via a subquery at the plan's interval) when the canary
 *    has `minSamples` requests in the window and the value counts against it;
 *  - `-2` when it crossed but stable (every other version) is as bad within the margin;
 *  - `-1` when the canary has fewer than `minSamples` requests: inconclusive, never a pass.
 */
export function buildRuleQuery(plan: Pick<Plan, 'windowMs' | 'minSamples' | 'intervalMs'>, rule: Rule & { metric: BuiltinMetric }): string {
  const green = `version="${CANARY_VERSION}"`;
  const blue = `version!="${CANARY_VERSION}"`;
  const threshold = formatNumber(RECORDED[rule.metric].toRecorded(rule.threshold));
  const value = (sel: string) => metricValue(rule.metric, sel, plan.windowMs, TOTAL);
  const held = rule.forMs > 0
    ? `${HELD[rule.op]}((${value(green)})[${formatPromDuration(rule.forMs)}:${formatPromDuration(plan.intervalMs)}])`
    : `(${value(green)})`;
  const enough = `(${requestCount(green, plan.windowMs, TOTAL)} >= ${plan.minSamples})`;
  const noData = `vector(${INSUFFICIENT_DATA})`;
  if (!rule.compareWithBlue) return `(${held} and on() ${enough}) or on() ${noData}`;

  const margin = formatNumber(RECORDED[rule.metric].toRecorded(rule.compareWithBlue.margin));
  const higherIsWorse = rule.op === '>' || rule.op === '>=';
  const worse = higherIsWorse ? `((${value(green)}) - (${value(blue)}) > ${margin})` : `((${value(blue)}) - (${value(green)}) > ${margin})`;
  // Stable with too little traffic cannot excuse anything: the canary is judged alone.
  const blueTooFew = `((${requestCount(blue, plan.windowMs, TOTAL)} or on() vector(0)) < ${plan.minSamples})`;
  return [
    `(${held} and on() ${enough} and on() (${worse} or on() ${blueTooFew}))`,
    `(${held} ${NEGATE[rule.op]} ${threshold} and on() ${enough})`,
    `(vector(${EXCUSED}) and on() ${enough})`,
    noData,
  ].join('\nor on()\n');
}

/** `result[0] > 0.01`-style conditions; negative sentinels match neither (inconclusive). */
export function buildConditions(rule: Rule & { metric: BuiltinMetric }): { successCondition: string; failureCondition: string } {
  const t = formatNumber(RECORDED[rule.metric].toRecorded(rule.threshold));
  const crossed = `result[0] ${rule.op} ${t}`;
  const notCrossed = `result[0] ${NEGATE[rule.op]} ${t}`;
  const guard = (cond: string) => (rule.op === '<' || rule.op === '<=' ? `result[0] >= 0 && ${cond}` : cond);
  return {
    successCondition: `result[0] >= 0 && ${notCrossed}`,
    // A `pause` rule never fails the analysis: crossing leaves it inconclusive, which pauses the
    // rollout for a human, as `action: pause` does on one host.
    failureCondition: rule.action === 'rollback' ? guard(crossed) : 'false',
  };
}

export interface AnalysisOptions {
  readonly name: string;
}

/** The background AnalysisTemplate: one metric per plan rule with a builtin metric. */
export function buildAnalysisTemplate(plan: Plan, options: AnalysisOptions): { object: Record<string, unknown>; warnings: string[] } {
  const warnings: string[] = [];
  const metrics: AnalysisMetric[] = [];
  for (const rule of plan.rules) {
    if (!isBuiltin(rule.metric)) {
      warnings.push(`rules "${rule.name}": custom $color query not translated; add it to the AnalysisTemplate by hand`);
      continue;
    }
    const builtin = rule as Rule & { metric: BuiltinMetric };
    metrics.push({
      name: rule.name,
      interval: formatPromDuration(plan.intervalMs),
      // The first measurement sees a full window, as on one host.
      initialDelay: formatPromDuration(plan.windowMs),
      // `for` is inside the query, so the first counted failure is final.
      failureLimit: 0,
      inconclusiveLimit: 0,
      // Prometheus unreachable for about one window errors the analysis (fail closed).
      consecutiveErrorLimit: Math.max(1, Math.ceil(plan.windowMs / plan.intervalMs)),
      ...buildConditions(builtin),
      provider: { prometheus: { address: '{{args.prometheus-address}}', query: buildRuleQuery(plan, builtin) } },
    });
  }
  return {
    object: {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'AnalysisTemplate',
      metadata: { name: options.name },
      spec: { args: [{ name: 'canary-version' }, { name: 'prometheus-address' }], metrics },
    },
    warnings,
  };
}

export interface SmokeOptions {
  readonly name: string;
  readonly image: string;
  readonly canaryUrl: string;
  readonly secretName: string;
}

/**
 * Pre-promotion checks against the canary Service before it takes traffic, as the single-host
 * preflight does against green: deep health (web metric) and the smoke suite (`boka smoke`, a Job
 * from the same image).
 */
export function buildSmokeTemplate(plan: Plan, options: SmokeOptions): Record<string, unknown> {
  const timeoutSeconds = Math.max(1, Math.ceil(plan.preflight.timeoutMs / 1000));
  const metrics: Record<string, unknown>[] = [
    {
      name: 'deep-health',
      failureLimit: 0,
      successCondition: 'result == "ok"',
      provider: {
        web: {
          url: `${options.canaryUrl}${plan.preflight.deepPath}`,
          timeoutSeconds,
          jsonPath: '{$.status}',
          headers: [{ key: 'Authorization', value: 'Bearer {{args.health-token}}' }],
        },
      },
    },
  ];
  if (plan.preflight.smoke) {
    metrics.push({
      name: 'smoke',
      failureLimit: 0,
      provider: {
        job: {
          spec: {
            backoffLimit: 0,
            activeDeadlineSeconds: 300,
            template: {
              spec: {
                restartPolicy: 'Never',
                securityContext: { runAsNonRoot: true, runAsUser: 1000 },
                containers: [{ name: 'smoke', image: options.image, command: ['node', 'bin/boka.mjs', 'smoke', options.canaryUrl] }],
              },
            },
          },
        },
      },
    });
  }
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AnalysisTemplate',
    metadata: { name: options.name },
    spec: {
      args: [{ name: 'health-token', valueFrom: { secretKeyRef: { name: options.secretName, key: 'HEALTH_TOKEN' } } }],
      metrics,
    },
  };
}
