import Type from 'typebox';

/** Metrics every metric source knows by name; a rule with a Prometheus `query` may name its own. */
export const BUILTIN_METRICS = [
  'error_rate',
  'p95_latency_ms',
  'db_error_rate',
  'session_failure_rate',
  'auth_failure_rate',
] as const;

export type BuiltinMetric = (typeof BUILTIN_METRICS)[number];

const RULE_OPS = ['>', '>=', '<', '<='] as const;
export type RuleOp = (typeof RULE_OPS)[number];

const RULE_ACTIONS = ['rollback', 'pause'] as const;
export type RuleAction = (typeof RULE_ACTIONS)[number];

export const NOTIFY_EVENTS = ['start', 'step', 'pause', 'rollback', 'complete', 'stuck', 'analysis_error', 'rollback_failed'] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

/** A validated, normalized rule: durations in ms, rates as fractions, latency in ms. */
export interface Rule {
  readonly name: string;
  readonly metric: string;
  readonly op: RuleOp;
  readonly threshold: number;
  readonly forMs: number;
  readonly action: RuleAction;
  /**
   * When set, green only breaches if it is also worse than blue's same window by more than
   * `margin` (same unit as the threshold). Null judges green alone.
   */
  readonly compareWithBlue: { readonly margin: number } | null;
  /** PromQL with `$color` and `$window` placeholders; only for the Prometheus metric source. */
  readonly query: { readonly value: string; readonly samples: string | null } | null;
  /**
   * Events needed before the rule is judged at all (per window, and pooled over the step);
   * null: the plan's `minSamples`, at least 100 for a latency quantile (docs/adr/0102).
   */
  readonly minSamples?: number | null;
}

/** A promotion gate (plan `successCriteria`): judged over the bake with the rules' statistics. */
export interface Criterion {
  readonly metric: string;
  /** The condition green must meet, e.g. `error_rate < 0.001`. */
  readonly op: RuleOp;
  readonly threshold: number;
}

export interface Step {
  readonly weight: number;
  readonly durationMs: number;
  /** `manual`: after the step passes, wait for `boka rollout resume` (or promote). */
  readonly gate: 'auto' | 'manual';
  /** A step that cannot decide by then pauses (`stuck` or `insufficient_traffic`); default 3× the duration. */
  readonly progressDeadlineMs?: number;
}

export interface HttpCheck {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly expectStatus: number;
  readonly body: unknown;
  /** Send the smoke user's bearer token. */
  readonly auth: boolean;
}

/** How the preflight treats schema migrations before traffic moves (docs/rollout.md). */
export const PREFLIGHT_MIGRATE = ['apply', 'check', 'off'] as const;
export type PreflightMigrate = (typeof PREFLIGHT_MIGRATE)[number];

export interface Webhook {
  readonly url: string;
  readonly events: readonly NotifyEvent[];
  // controller (issue 13, notifications): Standard Webhooks signing key and payload shape.
  /** File holding the `whsec_…` signing secret; null: env BOKA_WEBHOOK_SECRET, else unsigned. */
  readonly secretFile: string | null;
  /** `standard`: the event as JSON; `slack`: a Slack-compatible `{text, blocks}` message. */
  readonly format: 'standard' | 'slack';
}

/** A validated rollout plan. Build one with `loadPlan` or use `DEFAULT_PLAN`. */
export interface Plan {
  readonly intervalMs: number;
  readonly windowMs: number;
  readonly minSamples: number;
  readonly rollback: 'auto' | 'freeze';
  readonly preflight: {
    readonly readyPath: string;
    readonly deepPath: string;
    readonly smoke: boolean;
    readonly checks: readonly HttpCheck[];
    readonly backup: { readonly dir: string; readonly maxAgeMs: number } | null;
    readonly timeoutMs: number;
    // --- migrations before traffic (src/rollout/migrate-preflight.service.ts, ADR 0011) ---
    /** `apply` runs pending migrations in preflight, `check` requires them applied, `off` skips the blue re-check. */
    readonly migrate: PreflightMigrate;
  };
  readonly steps: readonly Step[];
  readonly rules: readonly Rule[];
  readonly bake: { readonly durationMs: number; readonly intervalMs: number };
  readonly drainTimeoutMs: number;
  /** Fail closed and the error budget (docs/adr/0102, 0103). */
  readonly analysis: {
    /** Consecutive evaluations with an analysis error before `onError` applies (Argo's default: 4). */
    readonly consecutiveErrorLimit: number;
    readonly onError: 'pause' | 'rollback';
    /** The whole rollout's budget for a false rollback or pause when green is as good as its thresholds. */
    readonly falseAlarmRate: number;
    /** Confidence that green is worse than blue by more than the margin before blue stops excusing it. */
    readonly blueConfidence: number;
    /** Confidence that green is inside each rule's threshold before a step passes. */
    readonly passConfidence: number;
  };
  /** Promotion gates, judged over the bake; empty: none. */
  readonly successCriteria: readonly Criterion[];
  readonly webhooks: readonly Webhook[];
  readonly metrics: {
    readonly scrapePath: string | null;
    readonly prometheusUrl: string | null;
    // controller (issue 13): the instances' METRICS_PORT / METRICS_TOKEN (env overrides when unset here).
    readonly scrape: { readonly port: number | null; readonly tokenFile: string | null };
  };
  // controller (issue 13): the version green's health must report (`--green-version` overrides).
  readonly greenVersion: string | null;
  /** controller (issue 13): file holding HEALTH_TOKEN for the health probes (env HEALTH_TOKEN otherwise). */
  readonly healthTokenFile: string | null;
}

const DurationText = Type.Union([Type.String(), Type.Number()], { description: 'a duration like 30s, 5m or 2h' });
const Quantity = Type.Union([Type.Number(), Type.String()], { description: 'a number, a percentage like 1% or a latency like 500ms' });
const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));

const RawRule = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1 })),
    metric: Type.String({ minLength: 1 }),
    op: literals(RULE_OPS),
    threshold: Quantity,
    for: Type.Optional(DurationText),
    action: literals(RULE_ACTIONS),
    compareWithBlue: Type.Optional(
      Type.Union([Type.Boolean(), Type.Object({ margin: Quantity }, { additionalProperties: false })]),
    ),
    query: Type.Optional(Type.String({ minLength: 1 })),
    samplesQuery: Type.Optional(Type.String({ minLength: 1 })),
    minSamples: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

const RawStep = Type.Object(
  {
    weight: Type.Number({ minimum: 0, maximum: 100 }),
    duration: Type.Optional(DurationText),
    gate: Type.Optional(literals(['auto', 'manual'] as const)),
    progressDeadline: Type.Optional(DurationText),
  },
  { additionalProperties: false },
);

const RawCheck = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1 })),
    method: Type.Optional(literals(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] as const)),
    path: Type.String({ pattern: '^/' }),
    expectStatus: Type.Optional(Type.Integer({ minimum: 100, maximum: 599 })),
    body: Type.Optional(Type.Unknown()),
    auth: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** Shape of the YAML file before normalization; every field is optional except where noted. */
export const RawPlanSchema = Type.Object(
  {
    version: Type.Optional(Type.Literal(1)),
    // controller (issue 13): expected green version and the health token's file.
    greenVersion: Type.Optional(Type.String({ minLength: 1 })),
    healthTokenFile: Type.Optional(Type.String({ minLength: 1 })),
    interval: Type.Optional(DurationText),
    window: Type.Optional(DurationText),
    minSamples: Type.Optional(Type.Integer({ minimum: 1 })),
    rollback: Type.Optional(literals(['auto', 'freeze'] as const)),
    drainTimeout: Type.Optional(DurationText),
    analysis: Type.Optional(
      Type.Object(
        {
          consecutiveErrorLimit: Type.Optional(Type.Integer({ minimum: 1 })),
          onError: Type.Optional(literals(['pause', 'rollback'] as const)),
          falseAlarmRate: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 0.5 })),
          blueConfidence: Type.Optional(Type.Number({ exclusiveMinimum: 0.5, exclusiveMaximum: 1 })),
          passConfidence: Type.Optional(Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
    successCriteria: Type.Optional(
      Type.Array(
        Type.Object(
          { metric: Type.String({ minLength: 1 }), op: literals(RULE_OPS), threshold: Quantity },
          { additionalProperties: false },
        ),
      ),
    ),
    preflight: Type.Optional(
      Type.Object(
        {
          readyPath: Type.Optional(Type.String({ pattern: '^/' })),
          deepPath: Type.Optional(Type.String({ pattern: '^/' })),
          smoke: Type.Optional(Type.Boolean()),
          timeout: Type.Optional(DurationText),
          checks: Type.Optional(Type.Array(RawCheck)),
          backup: Type.Optional(
            Type.Object({ dir: Type.String({ minLength: 1 }), maxAge: DurationText }, { additionalProperties: false }),
          ),
          // --- migrations before traffic (ADR 0011) ---
          migrate: Type.Optional(literals(PREFLIGHT_MIGRATE)),
        },
        { additionalProperties: false },
      ),
    ),
    steps: Type.Optional(Type.Array(RawStep, { minItems: 1 })),
    rules: Type.Optional(Type.Array(RawRule)),
    bake: Type.Optional(
      Type.Object(
        { duration: Type.Optional(DurationText), interval: Type.Optional(DurationText) },
        { additionalProperties: false },
      ),
    ),
    webhooks: Type.Optional(
      Type.Array(
        Type.Union([
          Type.String({ pattern: '^https?://' }),
          Type.Object(
            {
              url: Type.String({ pattern: '^https?://' }),
              events: Type.Optional(Type.Array(literals(NOTIFY_EVENTS))),
              // controller (issue 13): signing secret file and payload format.
              secretFile: Type.Optional(Type.String({ minLength: 1 })),
              format: Type.Optional(literals(['standard', 'slack'] as const)),
            },
            { additionalProperties: false },
          ),
        ]),
      ),
    ),
    metrics: Type.Optional(
      Type.Object(
        {
          scrapePath: Type.Optional(Type.Union([Type.String({ pattern: '^/' }), Type.Literal(false)])),
          prometheus: Type.Optional(
            Type.Object({ url: Type.String({ pattern: '^https?://' }) }, { additionalProperties: false }),
          ),
          // controller (issue 13): the instances' separate metrics listener and bearer token.
          scrape: Type.Optional(
            Type.Object(
              { port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })), tokenFile: Type.Optional(Type.String({ minLength: 1 })) },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
