import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DEFAULT_PLAN } from '../rollout/plan.core.js';
import type { Plan } from '../rollout/plan.schema.js';
import { REPO_ROOT, readPlanFile, renderExamples } from './examples.js';
import { buildGrafanaDashboard } from './grafana.core.js';
import { K8S_DEFAULTS, resolveK8sOptions } from './k8s-options.core.js';
import { buildK8sBundle } from './k8s.core.js';
import { buildPrometheusRules } from './prometheus-rules.core.js';
import { renderJson, renderManifestFile, renderRuleFile } from './render.core.js';

function write(path: string | undefined, text: string): void {
  if (!path) {
    process.stdout.write(text);
    return;
  }
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  process.stderr.write(`wrote ${path}\n`);
}

function warn(lines: readonly string[]): void {
  for (const line of lines) process.stderr.write(`note: ${line}\n`);
}

/** Reads `--plan` (or the default plan); a file that cannot be read or is invalid is exit 1. */
function readPlan(path: string | undefined): Plan | null {
  try {
    return path ? readPlanFile(path) : DEFAULT_PLAN;
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return null;
  }
}

/** Values of `boka deploy k8s` (the option table is src/cli/commands.ts). */
export interface K8sValues {
  image: string;
  plan: string | undefined;
  namespace: string | undefined;
  host: string | undefined;
  traffic: string | undefined;
  gateway: string | undefined;
  prometheus: string | undefined;
  out: string | undefined;
}

/** `boka deploy k8s`: Kubernetes + Argo Rollouts manifests; without --out, one YAML stream on stdout. */
export async function runK8s(values: K8sValues): Promise<number> {
  const plan = readPlan(values.plan);
  if (!plan) return 1;
  const traffic = values.traffic ?? K8S_DEFAULTS.traffic;
  if (traffic !== 'nginx' && traffic !== 'gateway-api') return 2;
  const bundle = buildK8sBundle(
    plan,
    resolveK8sOptions({ image: values.image, namespace: values.namespace, host: values.host, traffic, gateway: values.gateway, prometheusAddress: values.prometheus }),
  );
  warn(bundle.warnings);
  if (values.out) {
    for (const file of bundle.files) write(join(values.out, file.file), renderManifestFile(file));
  } else {
    process.stdout.write(bundle.files.filter((f) => f.file !== 'kustomization.yaml').map(renderManifestFile).join('---\n'));
  }
  return 0;
}

/** `boka deploy prometheus-rules`: recording and alerting rules for the plan. */
export async function runPrometheusRules(values: { plan: string | undefined; out: string | undefined }): Promise<number> {
  const plan = readPlan(values.plan);
  if (!plan) return 1;
  const rules = buildPrometheusRules(plan);
  warn(rules.warnings);
  write(values.out, renderRuleFile(rules.file));
  return 0;
}

/** `boka deploy grafana`: the dashboard JSON for the plan. */
export async function runGrafana(values: { plan: string | undefined; out: string | undefined }): Promise<number> {
  const plan = readPlan(values.plan);
  if (!plan) return 1;
  write(values.out, renderJson(buildGrafanaDashboard(plan)));
  return 0;
}

/** `boka deploy examples`: regenerates examples/k8s/ from examples/rollout.yaml. */
export async function runExamples(): Promise<number> {
  for (const [path, text] of renderExamples()) write(join(REPO_ROOT, path), text);
  return 0;
}
