import type { Static } from 'typebox';
import Value from 'typebox/value';
import { LineCounter, parseDocument } from 'yaml';
import { parseDuration } from './duration.core.js';
import {
  createLocator,
  formatFieldPath,
  renderValue,
  type PathSegment,
  type PlanError,
} from './plan-errors.core.js';
import {
  BUILTIN_METRICS,
  NOTIFY_EVENTS,
  RawPlanSchema,
  type HttpCheck,
  type Plan,
  type Rule,
  type Step,
  type Webhook,
} from './plan.schema.js';

export type { PlanError } from './plan-errors.core.js';
export { formatPlanErrors } from './plan-errors.core.js';

/** The seed plan from the tracker issue; `loadPlan` fills every omitted field from it. */
export const DEFAULT_PLAN: Plan = Object.freeze({
  intervalMs: 10_000,
  windowMs: 60_000,
  minSamples: 30,
  rollback: 'auto',
  drainTimeoutMs: 30_000,
  preflight: {
    readyPath: '/api/health/ready',
    deepPath: '/api/health/deep',
    smoke: true,
    checks: [],
    backup: null,
    timeoutMs: 5_000,
    // --- migrations before traffic (ADR 0011) ---
    migrate: 'check',
  },
  // The seed: 0 % from T+0 while preflight and smoke run, then 10/25/50/75/100 % at T+5/15/30/45/60.
  steps: [
    { weight: 0, durationMs: 5 * 60_000, gate: 'auto' },
    { weight: 10, durationMs: 10 * 60_000, gate: 'auto' },
    { weight: 25, durationMs: 15 * 60_000, gate: 'auto' },
    { weight: 50, durationMs: 15 * 60_000, gate: 'auto' },
    { weight: 75, durationMs: 15 * 60_000, gate: 'auto' },
    { weight: 100, durationMs: 0, gate: 'auto' },
  ],
  rules: [
    rule('error-rate', 'error_rate', 0.01, 0, 'rollback', 0.005),
    rule('p95-latency', 'p95_latency_ms', 500, 120_000, 'rollback', 50),
    rule('db-errors', 'db_error_rate', 0.05, 0, 'rollback', 0.01),
    rule('session-failures', 'session_failure_rate', 0.1, 0, 'rollback', 0.02),
    rule('auth-failures', 'auth_failure_rate', 0.05, 0, 'pause', 0.01),
  ],
  bake: { durationMs: 2 * 3_600_000, intervalMs: 60_000 },
  analysis: { consecutiveErrorLimit: 4, onError: 'pause', falseAlarmRate: 0.01, blueConfidence: 0.95, passConfidence: 0.8 },
  // The seed's success criteria, enforced as a promotion gate.
  successCriteria: [
    { metric: 'error_rate', op: '<', threshold: 0.001 },
    { metric: 'p95_latency_ms', op: '<', threshold: 150 },
  ],
  webhooks: [],
  metrics: { scrapePath: '/metrics', prometheusUrl: null, scrape: { port: null, tokenFile: null } },
  greenVersion: null,
  healthTokenFile: null,
} satisfies Plan);

function rule(name: string, metric: string, threshold: number, forMs: number, action: Rule['action'], margin: number): Rule {
  return { name, metric, op: '>', threshold, forMs, action, compareWithBlue: { margin }, query: null };
}

export type LoadPlanResult = { ok: true; plan: Plan } | { ok: false; errors: PlanError[] };

const RATE_METRICS = new Set(['error_rate', 'db_error_rate', 'session_failure_rate', 'auth_failure_rate']);

/** Whether a metric is a rate of events (value × samples counts them) rather than a point value like a quantile. */
export function isRateMetric(metric: string): boolean {
  return RATE_METRICS.has(metric);
}

/** A step's progress deadline: its own, or 3× its duration. */
export function progressDeadlineOf(step: Step): number {
  return step.progressDeadlineMs ?? 3 * step.durationMs;
}

/**
 * Parses and validates plan YAML. Pure: the caller reads the file. Every error names the line,
 * the field and what was expected; all errors are returned at once, not just the first.
 */
export function loadPlan(text: string): LoadPlanResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { line: pos.line, column: pos.col, field: '(yaml)', expected: 'valid YAML', got: e.message.split('\n')[0] };
      }),
    };
  }
  const raw: unknown = doc.toJS() ?? {};
  const locate = createLocator(doc, lineCounter);
  const errors: PlanError[] = [];
  const fail = (path: readonly PathSegment[], expected: string, got: unknown, keyOnly = false) => {
    errors.push({ ...locate(path, keyOnly), field: formatFieldPath(path), expected, got: renderValue(got) });
  };

  if (typeof raw !== 'object' || Array.isArray(raw) || raw === null) {
    fail([], 'a mapping of plan fields', raw);
    return { ok: false, errors };
  }
  collectSchemaErrors(raw, fail);
  if (errors.length > 0) return { ok: false, errors: sortErrors(errors) };

  const plan = normalizePlan(raw as RawPlan, fail);
  return errors.length > 0 ? { ok: false, errors: sortErrors(errors) } : { ok: true, plan };
}

type Fail = (path: readonly PathSegment[], expected: string, got: unknown, keyOnly?: boolean) => void;
type RawPlan = Static<typeof RawPlanSchema>;

function sortErrors(errors: PlanError[]): PlanError[] {
  return errors.sort((a, b) => a.line - b.line || a.column - b.column);
}

function decodePointer(pointer: string): PathSegment[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function resolveSchema(schemaPath: string): Record<string, unknown> | undefined {
  let node: unknown = RawPlanSchema;
  for (const part of schemaPath.replace(/^#\/?/, '').split('/').filter(Boolean)) {
    node = (node as Record<string, unknown> | undefined)?.[part];
  }
  return node as Record<string, unknown> | undefined;
}

function describeSchema(schema: Record<string, unknown> | undefined): string {
  if (!schema) return 'a valid value';
  if (typeof schema.description === 'string') return schema.description;
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.anyOf)) {
    const parts = (schema.anyOf as Record<string, unknown>[]).map(describeSchema);
    return parts.length > 2 ? `one of ${parts.join(', ')}` : parts.join(' or ');
  }
  if (schema.type === 'string' && typeof schema.pattern === 'string') {
    return schema.pattern === '^/' ? 'a path starting with /' : schema.pattern === '^https?://' ? 'an http(s) URL' : `a string matching ${schema.pattern}`;
  }
  if (schema.type === 'array') return 'a list';
  if (schema.type === 'object') return 'a mapping';
  if (schema.type === 'integer') return 'an integer';
  return `a ${String(schema.type)}`;
}

function describeBounds(error: { keyword: string; params: Record<string, unknown> }): string {
  const p = error.params;
  switch (error.keyword) {
    case 'minimum': return `a number >= ${String(p.limit)}`;
    case 'maximum': return `a number <= ${String(p.limit)}`;
    case 'exclusiveMinimum': return `a number > ${String(p.limit)}`;
    case 'exclusiveMaximum': return `a number < ${String(p.limit)}`;
    case 'minItems': return `at least ${String(p.limit)} item(s)`;
    case 'minLength': return 'a non-empty string';
    default: return '';
  }
}

/** Turns TypeBox's JSON-schema errors into one readable error per offending field. */
function collectSchemaErrors(raw: object, fail: Fail): void {
  for (const chunk of splitForValidation(raw)) {
    const errors = [...Value.Errors(RawPlanSchema, chunk.value)].map((e) => ({
      ...e,
      instancePath: e.instancePath.replace(/^\/([^/]+)\/0(?=\/|$)/, (m, key: string) => (chunk.index === undefined ? m : `/${key}/${chunk.index}`)),
    }));
    reportSchemaErrors(raw, errors, fail);
  }
}

/**
 * TypeBox stops at 8 errors per call (a global setting we must not change for the rest of
 * the app), so each top-level field and each list item is validated on its own.
 */
function splitForValidation(raw: object): { value: object; index: number | undefined }[] {
  const chunks: { value: object; index: number | undefined }[] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (Array.isArray(value) && ['steps', 'rules', 'webhooks', 'successCriteria'].includes(key)) {
      if (value.length === 0) chunks.push({ value: { [key]: value }, index: undefined });
      value.forEach((item, index) => chunks.push({ value: { [key]: [item] }, index }));
    } else {
      chunks.push({ value: { [key]: value }, index: undefined });
    }
  }
  return chunks;
}

type SchemaError = { keyword: string; schemaPath: string; instancePath: string; params: Record<string, unknown> };

function reportSchemaErrors(raw: object, errors: SchemaError[], fail: Fail): void {
  const all = errors.filter((e) => e.keyword !== 'boolean');
  const unions = all.filter((e) => e.keyword === 'anyOf');
  const kept = all.filter((e) => {
    if (e.keyword === 'anyOf') {
      // A deeper error from inside a branch is more precise than "matches no branch".
      return !all.some((d) => d.schemaPath.startsWith(`${e.schemaPath}/anyOf/`) && d.instancePath.length > e.instancePath.length);
    }
    return !unions.some((u) => e.schemaPath.startsWith(`${u.schemaPath}/anyOf/`) && e.instancePath === u.instancePath);
  });
  const seen = new Set<string>();
  for (const e of kept) {
    const path = decodePointer(e.instancePath);
    const value = valueAt(raw, path);
    const params = e.params;
    if (e.keyword === 'additionalProperties') {
      const schema = resolveSchema(e.schemaPath);
      const known = Object.keys((schema?.properties as object | undefined) ?? {});
      for (const extra of (params.additionalProperties as string[] | undefined) ?? []) {
        fail([...path, extra], `a known field (${known.join(', ')})`, extra, true);
      }
      continue;
    }
    if (e.keyword === 'required') {
      for (const missing of (params.requiredProperties as string[] | undefined) ?? []) {
        fail([...path, missing], 'this required field', undefined);
      }
      continue;
    }
    const key = `${e.instancePath}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const expected = describeBounds(e) || describeSchema(resolveSchema(e.keyword === 'anyOf' ? e.schemaPath : e.schemaPath));
    fail(path, expected, value);
  }
}

function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let node = root;
  for (const segment of path) node = (node as Record<string | number, unknown> | undefined)?.[segment];
  return node;
}

function readDuration(value: string | number | undefined, fallback: number, path: PathSegment[], fail: Fail, min = 0): number {
  if (value === undefined) return fallback;
  const ms = typeof value === 'number' ? (value === 0 ? 0 : undefined) : parseDuration(value);
  if (ms === undefined) {
    fail(path, 'a duration like 30s, 5m or 2h', value);
    return fallback;
  }
  if (ms < min) fail(path, `a duration of at least ${min}ms`, value);
  return ms;
}

/** Reads `1%`, `0.01`, `500ms`, `0.5s` into the rule's unit (fraction for rates, ms for latency). */
function readQuantity(value: string | number, metric: string, path: PathSegment[], fail: Fail): number {
  const isRate = RATE_METRICS.has(metric);
  const isLatency = metric === 'p95_latency_ms';
  if (typeof value === 'number') {
    if (isRate && (value < 0 || value > 1)) {
      fail(path, 'a fraction between 0 and 1, or a percentage like 1%', value);
    }
    return value;
  }
  const percent = /^(\d+(?:\.\d+)?)\s*%$/.exec(value);
  if (percent && !isLatency) return Number(percent[1]) / 100;
  if (isLatency) {
    const ms = parseDuration(value);
    if (ms !== undefined) return ms;
    fail(path, 'a latency like 500ms or 0.5s (or a number of milliseconds)', value);
    return 0;
  }
  fail(path, isRate ? 'a percentage like 1% or a fraction like 0.01' : 'a number', value);
  return 0;
}

function normalizePlan(raw: RawPlan, fail: Fail): Plan {
  const d = DEFAULT_PLAN;
  const intervalMs = readDuration(raw.interval, d.intervalMs, ['interval'], fail, 100);
  const windowMs = readDuration(raw.window, d.windowMs, ['window'], fail, 100);
  const steps = raw.steps ? normalizeSteps(raw.steps, fail) : d.steps;
  const rules = raw.rules ? normalizeRules(raw.rules, fail) : d.rules;
  const prometheusUrl = raw.metrics?.prometheus?.url ?? null;
  raw.rules?.forEach((r, i) => {
    if (r.query && !prometheusUrl) fail(['rules', i, 'query'], 'metrics.prometheus.url to be set for a PromQL query', r.query);
  });
  const pre = raw.preflight ?? {};
  const checks: HttpCheck[] = (pre.checks ?? []).map((c) => ({
    name: c.name ?? `${c.method ?? 'GET'} ${c.path}`,
    method: c.method ?? 'GET',
    path: c.path,
    expectStatus: c.expectStatus ?? 200,
    body: c.body,
    auth: c.auth ?? false,
  }));
  const webhooks: Webhook[] = (raw.webhooks ?? []).map((w) =>
    typeof w === 'string'
      ? { url: w, events: NOTIFY_EVENTS, secretFile: null, format: 'standard' as const }
      : { url: w.url, events: w.events ?? NOTIFY_EVENTS, secretFile: w.secretFile ?? null, format: w.format ?? 'standard' },
  );
  return {
    intervalMs,
    windowMs,
    minSamples: raw.minSamples ?? d.minSamples,
    rollback: raw.rollback ?? d.rollback,
    drainTimeoutMs: readDuration(raw.drainTimeout, d.drainTimeoutMs, ['drainTimeout'], fail),
    analysis: {
      consecutiveErrorLimit: raw.analysis?.consecutiveErrorLimit ?? d.analysis.consecutiveErrorLimit,
      onError: raw.analysis?.onError ?? d.analysis.onError,
      falseAlarmRate: raw.analysis?.falseAlarmRate ?? d.analysis.falseAlarmRate,
      blueConfidence: raw.analysis?.blueConfidence ?? d.analysis.blueConfidence,
      passConfidence: raw.analysis?.passConfidence ?? d.analysis.passConfidence,
    },
    successCriteria: raw.successCriteria
      ? raw.successCriteria.map((c, i) => ({ metric: c.metric, op: c.op, threshold: readQuantity(c.threshold, c.metric, ['successCriteria', i, 'threshold'], fail) }))
      : d.successCriteria,
    preflight: {
      readyPath: pre.readyPath ?? d.preflight.readyPath,
      deepPath: pre.deepPath ?? d.preflight.deepPath,
      smoke: pre.smoke ?? d.preflight.smoke,
      timeoutMs: readDuration(pre.timeout, d.preflight.timeoutMs, ['preflight', 'timeout'], fail, 1),
      checks,
      backup: pre.backup
        ? { dir: pre.backup.dir, maxAgeMs: readDuration(pre.backup.maxAge, 0, ['preflight', 'backup', 'maxAge'], fail, 1) }
        : null,
      // --- migrations before traffic (ADR 0011) ---
      migrate: pre.migrate ?? d.preflight.migrate,
    },
    steps,
    rules,
    bake: {
      durationMs: readDuration(raw.bake?.duration, d.bake.durationMs, ['bake', 'duration'], fail),
      intervalMs: readDuration(raw.bake?.interval, d.bake.intervalMs, ['bake', 'interval'], fail, 100),
    },
    webhooks,
    metrics: {
      scrapePath: raw.metrics?.scrapePath === false ? null : (raw.metrics?.scrapePath ?? d.metrics.scrapePath),
      prometheusUrl,
      scrape: { port: raw.metrics?.scrape?.port ?? null, tokenFile: raw.metrics?.scrape?.tokenFile ?? null },
    },
    greenVersion: raw.greenVersion ?? null,
    healthTokenFile: raw.healthTokenFile ?? null,
  };
}

function normalizeSteps(rawSteps: NonNullable<RawPlan['steps']>, fail: Fail): Step[] {
  const steps: Step[] = [];
  rawSteps.forEach((s, i) => {
    const last = i === rawSteps.length - 1;
    const previous = steps[i - 1];
    if (previous && s.weight <= previous.weight) {
      fail(['steps', i, 'weight'], `a weight greater than the previous step's ${previous.weight}`, s.weight);
    }
    if (last && s.weight !== 100) fail(['steps', i, 'weight'], '100 on the last step (it starts the bake)', s.weight);
    if (!last && s.weight === 100) fail(['steps', i, 'weight'], 'less than 100 on every step but the last', s.weight);
    if (i > 0 && s.weight === 0) fail(['steps', i, 'weight'], 'more than 0 (only the first step may hold green at 0%)', s.weight);
    if (last && s.duration !== undefined) {
      fail(['steps', i, 'duration'], 'no duration on the 100% step (set bake.duration instead)', s.duration);
    }
    if (!last && s.duration === undefined) fail(['steps', i, 'duration'], 'a duration like 30s, 5m or 2h', undefined);
    const durationMs = last ? 0 : readDuration(s.duration, 0, ['steps', i, 'duration'], fail);
    steps.push({
      weight: s.weight,
      durationMs,
      gate: s.gate ?? 'auto',
      ...(s.progressDeadline === undefined ? {} : { progressDeadlineMs: readDuration(s.progressDeadline, 3 * durationMs, ['steps', i, 'progressDeadline'], fail) }),
    });
  });
  return steps;
}

function normalizeRules(rawRules: NonNullable<RawPlan['rules']>, fail: Fail): Rule[] {
  const names = new Set<string>();
  return rawRules.map((r, i) => {
    const builtin = (BUILTIN_METRICS as readonly string[]).includes(r.metric);
    if (!builtin && !r.query) {
      fail(['rules', i, 'metric'], `one of ${BUILTIN_METRICS.join(', ')} (or a custom name with a PromQL \`query\`)`, r.metric);
    }
    if (r.samplesQuery && !r.query) fail(['rules', i, 'samplesQuery'], 'a `query` next to samplesQuery', r.samplesQuery);
    const name = r.name ?? `${r.metric} ${r.op} ${String(r.threshold)}`;
    if (names.has(name)) fail(['rules', i, 'name'], 'a name no other rule uses', name);
    names.add(name);
    const compare = r.compareWithBlue;
    return {
      name,
      metric: r.metric,
      op: r.op,
      threshold: readQuantity(r.threshold, r.metric, ['rules', i, 'threshold'], fail),
      forMs: readDuration(r.for, 0, ['rules', i, 'for'], fail),
      action: r.action,
      compareWithBlue:
        compare === undefined || compare === false
          ? compare === false ? null : { margin: 0 }
          : compare === true
            ? { margin: 0 }
            : { margin: readQuantity(compare.margin, r.metric, ['rules', i, 'compareWithBlue', 'margin'], fail) },
      query: r.query ? { value: r.query, samples: r.samplesQuery ?? null } : null,
      ...(r.minSamples === undefined ? {} : { minSamples: r.minSamples }),
    } satisfies Rule;
  });
}
