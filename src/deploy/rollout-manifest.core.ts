import type { Plan } from '../rollout/plan.schema.js';
import { imageTag, labels, selector, type K8sOptions } from './k8s-options.core.js';
import { formatPromDuration } from './promql.core.js';

type Obj = Record<string, unknown>;

/** Secret keys the container reads; `optional` ones may be absent from the Secret. */
export const SECRET_KEYS = [
  { env: 'DATABASE_URL', optional: false },
  { env: 'BOKA_SECRET_KEY', optional: false },
  { env: 'REDIS_URL', optional: true },
  { env: 'HEALTH_TOKEN', optional: false },
  { env: 'METRICS_TOKEN', optional: false },
  { env: 'SMTP_URL', optional: true },
] as const;

export function buildConfigMap(options: K8sOptions): Obj {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `${options.name}-config`, labels: labels(options) },
    data: {
      NODE_ENV: 'production',
      HOST: '0.0.0.0',
      PORT: String(options.port),
      LOG_LEVEL: 'info',
      // The preStop hook does the delay (it runs before SIGTERM); the app adding its own would double it.
      SHUTDOWN_DELAY_MS: '0',
      SHUTDOWN_TIMEOUT_MS: String(options.shutdownTimeoutMs),
    },
  };
}

/** The plan's steps as Argo canary steps: smoke before traffic, then setWeight + pause, bake at 100. */
export function buildCanarySteps(plan: Plan, smokeTemplate: string): Obj[] {
  const steps: Obj[] = [
    { setCanaryScale: { replicas: 1 } },
    { analysis: { templates: [{ templateName: smokeTemplate }] } },
    { setCanaryScale: { matchTrafficWeight: true } },
  ];
  for (const step of plan.steps) {
    steps.push({ setWeight: step.weight });
    const duration = step.weight === 100 ? plan.bake.durationMs : step.durationMs;
    if (duration > 0) steps.push({ pause: { duration: formatPromDuration(duration) } });
    if (step.gate === 'manual') steps.push({ pause: {} });
  }
  return steps;
}

/** Index of the first `setWeight`: background analysis starts with real traffic. */
export function firstTrafficStep(steps: readonly Obj[]): number {
  return steps.findIndex((s) => 'setWeight' in s);
}

export interface RolloutManifestInput {
  readonly plan: Plan;
  readonly options: K8sOptions;
  readonly analysisTemplate: string;
  readonly smokeTemplate: string;
  readonly stableService: string;
  readonly canaryService: string;
  readonly trafficRouting: Obj;
}

export function buildRolloutManifest(input: RolloutManifestInput): Obj {
  const { plan, options } = input;
  const version = imageTag(options.image);
  const steps = buildCanarySteps(plan, input.smokeTemplate);
  const preStopSeconds = Math.ceil(options.shutdownDelayMs / 1000);
  const container = {
    name: 'boka',
    image: options.image,
    command: ['node', '--import', 'tsx', 'src/main.ts'],
    ports: [{ name: 'http', containerPort: options.port, protocol: 'TCP' }],
    envFrom: [{ configMapRef: { name: `${options.name}-config` } }],
    env: [
      { name: 'BOKA_VERSION', value: version },
      ...SECRET_KEYS.map((k) => ({ name: k.env, valueFrom: { secretKeyRef: { name: options.secretName, key: k.env, ...(k.optional ? { optional: true } : {}) } } })),
    ],
    livenessProbe: { httpGet: { path: '/api/health', port: 'http' }, periodSeconds: 10, failureThreshold: 3 },
    readinessProbe: { httpGet: { path: plan.preflight.readyPath, port: 'http' }, periodSeconds: 5, failureThreshold: 2 },
    startupProbe: { httpGet: { path: '/api/health', port: 'http' }, periodSeconds: 2, failureThreshold: 60 },
    lifecycle: { preStop: { sleep: { seconds: preStopSeconds } } },
    resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } },
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
  };
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: options.name, labels: { ...labels(options), 'app.kubernetes.io/version': version } },
    spec: {
      replicas: options.replicas,
      revisionHistoryLimit: 5,
      selector: { matchLabels: selector(options) },
      template: {
        metadata: { labels: { ...labels(options), 'app.kubernetes.io/version': version } },
        spec: {
          // preStop + the app's drain, with room to spare.
          terminationGracePeriodSeconds: preStopSeconds + Math.ceil(options.shutdownTimeoutMs / 1000) + 5,
          securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' }, fsGroup: 1000 },
          automountServiceAccountToken: false,
          containers: [container],
          volumes: [{ name: 'tmp', emptyDir: {} }],
        },
      },
      strategy: {
        canary: {
          stableService: input.stableService,
          canaryService: input.canaryService,
          trafficRouting: input.trafficRouting,
          // Blue stays on standby for the bake after promotion, so going back is a scale-up away.
          scaleDownDelaySeconds: Math.round(plan.bake.durationMs / 1000),
          abortScaleDownDelaySeconds: Math.round(plan.drainTimeoutMs / 1000),
          analysis: {
            templates: [{ templateName: input.analysisTemplate }],
            startingStep: firstTrafficStep(steps),
            args: [
              { name: 'canary-version', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app.kubernetes.io/version']" } } },
              { name: 'prometheus-address', value: options.prometheusAddress },
            ],
          },
          steps,
        },
      },
    },
  };
}
