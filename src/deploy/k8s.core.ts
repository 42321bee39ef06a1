import type { Plan } from '../rollout/plan.schema.js';
import { buildAnalysisTemplate, buildSmokeTemplate } from './analysis.core.js';
import { labels, selector, type K8sOptions } from './k8s-options.core.js';
import { buildMigrateJob } from './migrate-job.core.js';
import { buildPrometheusRules } from './prometheus-rules.core.js';
import { formatPromDuration } from './promql.core.js';
import { buildConfigMap, buildRolloutManifest } from './rollout-manifest.core.js';
import { buildTrafficManifests } from './traffic-manifests.core.js';

type Obj = Record<string, unknown>;

/** One output file: its name and the objects in it (one YAML document each). */
export interface ManifestFile {
  readonly file: string;
  readonly objects: readonly Obj[];
}

export interface K8sBundle {
  /** In kustomization order; `kustomization.yaml` is last. */
  readonly files: readonly ManifestFile[];
  /** Plan fields Argo (or these manifests) cannot express exactly, one line each. */
  readonly warnings: readonly string[];
}

function planWarnings(plan: Plan): string[] {
  const warnings: string[] = [];
  if (plan.preflight.checks.length > 0) warnings.push('preflight.checks: not translated; add web metrics to the smoke AnalysisTemplate');
  if (plan.preflight.backup) warnings.push('preflight.backup: not translated; check backups in your pipeline before `kubectl argo rollouts set image`');
  if (plan.webhooks.length > 0) warnings.push('webhooks: not translated; use Argo Rollouts notifications');
  if (plan.metrics.scrapePath && plan.metrics.scrapePath !== '/metrics') warnings.push(`metrics.scrapePath: ServiceMonitor uses ${plan.metrics.scrapePath}`);
  if (plan.rollback === 'freeze') warnings.push('rollback: freeze: rollback rules only pause the Rollout (inconclusive), they never fail the analysis');
  if (plan.bake.intervalMs !== plan.intervalMs) warnings.push('bake.interval: Argo keeps measuring at `interval` during the bake pause; deep health is the readiness probe there');
  return warnings;
}

/**
 * Every object `boka deploy k8s` writes, from the plan and the options: Rollout, Services,
 * Ingress or HTTPRoute, AnalysisTemplates, ConfigMap, PDB, HPA, ServiceMonitor, PrometheusRule,
 * the pre-rollout migration Job, and a kustomization. Pure; the command serialises it. The Job
 * applies the release's `expand` migrations before the Rollout changes image (ADR 0010); pods
 * would apply the same ones at start behind the advisory lock, but only after blue had been
 * left untested on the new schema. No `contract` migration runs inside a rollout.
 */
export function buildK8sBundle(plan: Plan, options: K8sOptions): K8sBundle {
  const traffic = buildTrafficManifests(options);
  const analysisName = `${options.name}-rollout`;
  const smokeName = `${options.name}-preflight`;
  // `freeze`: a breached rollback rule pauses at the current weight, i.e. an inconclusive measurement.
  const judged = plan.rollback === 'freeze' ? { ...plan, rules: plan.rules.map((r) => ({ ...r, action: 'pause' as const })) } : plan;
  const analysis = buildAnalysisTemplate(judged, { name: analysisName });
  const rules = buildPrometheusRules(plan);
  const canaryUrl = `http://${traffic.canaryService}.${options.namespace}.svc.cluster.local`;
  const files: ManifestFile[] = [
    { file: 'configmap.yaml', objects: [buildConfigMap(options)] },
    { file: 'migrate-job.yaml', objects: [buildMigrateJob(options)] },
    {
      file: 'rollout.yaml',
      objects: [
        buildRolloutManifest({
          plan,
          options,
          analysisTemplate: analysisName,
          smokeTemplate: smokeName,
          stableService: traffic.stableService,
          canaryService: traffic.canaryService,
          trafficRouting: traffic.trafficRouting,
        }),
      ],
    },
    { file: 'services.yaml', objects: traffic.services },
    { file: options.traffic === 'gateway-api' ? 'httproute.yaml' : 'ingress.yaml', objects: [traffic.route] },
    {
      file: 'analysis-templates.yaml',
      objects: [
        analysis.object,
        buildSmokeTemplate(plan, { name: smokeName, image: options.image, canaryUrl, secretName: options.secretName }),
      ],
    },
    {
      file: 'availability.yaml',
      objects: [
        {
          apiVersion: 'policy/v1',
          kind: 'PodDisruptionBudget',
          metadata: { name: options.name, labels: labels(options) },
          spec: { maxUnavailable: 1, selector: { matchLabels: selector(options) } },
        },
        {
          apiVersion: 'autoscaling/v2',
          kind: 'HorizontalPodAutoscaler',
          metadata: { name: options.name, labels: labels(options) },
          spec: {
            scaleTargetRef: { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: options.name },
            minReplicas: options.replicas,
            maxReplicas: options.maxReplicas,
            metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
          },
        },
      ],
    },
    {
      file: 'monitoring.yaml',
      objects: [
        {
          apiVersion: 'monitoring.coreos.com/v1',
          kind: 'ServiceMonitor',
          metadata: { name: options.name, labels: labels(options) },
          spec: {
            selector: { matchLabels: { ...selector(options), 'app.kubernetes.io/component': 'metrics' } },
            endpoints: [
              {
                port: 'http',
                path: plan.metrics.scrapePath ?? '/metrics',
                interval: formatPromDuration(Math.min(plan.intervalMs, 15_000)),
                bearerTokenSecret: { name: options.secretName, key: 'METRICS_TOKEN' },
              },
            ],
          },
        },
        { apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule', metadata: { name: options.name, labels: labels(options) }, spec: rules.file },
      ],
    },
  ];
  const kustomization = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    namespace: options.namespace,
    resources: files.map((f) => f.file),
  };
  return {
    files: [...files, { file: 'kustomization.yaml', objects: [kustomization] }],
    warnings: [...planWarnings(plan), ...analysis.warnings, ...rules.warnings],
  };
}
