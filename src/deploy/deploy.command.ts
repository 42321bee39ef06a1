import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_PLAN } from '../rollout/plan.core.js';
import type { Plan } from '../rollout/plan.schema.js';
import { REPO_ROOT, readPlanFile, renderExamples } from './examples.js';
import { buildGrafanaDashboard } from './grafana.core.js';
import { K8S_DEFAULTS, resolveK8sOptions } from './k8s-options.core.js';
import { buildK8sBundle } from './k8s.core.js';
import { buildPrometheusRules } from './prometheus-rules.core.js';
import { renderJson, renderManifestFile, renderRuleFile } from './render.core.js';

const USAGE = [
  'usage: boka deploy k8s --image <ref> [--plan rollout.yaml] [--namespace boka] [--host boka.example.com]',
  '                       [--traffic nginx|gateway-api] [--gateway ns/name] [--prometheus URL] [--out DIR]',
  '       boka deploy prometheus-rules [--plan rollout.yaml] [--out FILE]',
  '       boka deploy grafana [--plan rollout.yaml] [--out FILE]',
  '       boka deploy examples      (regenerates examples/k8s/ from examples/rollout.yaml)',
  'Without --out, YAML/JSON goes to stdout; plan fields that cannot be expressed exactly go to stderr.',
].join('\n');

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

/** `boka deploy …`: Kubernetes + Argo Rollouts manifests, Prometheus rules, a Grafana dashboard. */
export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  let values;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        plan: { type: 'string' },
        image: { type: 'string' },
        namespace: { type: 'string' },
        host: { type: 'string' },
        traffic: { type: 'string' },
        gateway: { type: 'string' },
        prometheus: { type: 'string' },
        out: { type: 'string' },
      },
    }));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    return 2;
  }
  let plan: Plan;
  try {
    plan = values.plan ? readPlanFile(values.plan) : DEFAULT_PLAN;
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  switch (sub) {
    case 'k8s': {
      if (!values.image) {
        process.stderr.write(`--image is required\n${USAGE}\n`);
        return 2;
      }
      const traffic = values.traffic ?? K8S_DEFAULTS.traffic;
      if (traffic !== 'nginx' && traffic !== 'gateway-api') {
        process.stderr.write(`--traffic: expected nginx or gateway-api, got "${traffic}"\n`);
        return 2;
      }
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
    case 'prometheus-rules': {
      const rules = buildPrometheusRules(plan);
      warn(rules.warnings);
      write(values.out, renderRuleFile(rules.file));
      return 0;
    }
    case 'grafana':
      write(values.out, renderJson(buildGrafanaDashboard(plan)));
      return 0;
    case 'examples':
      for (const [path, text] of renderExamples()) write(join(REPO_ROOT, path), text);
      return 0;
    default:
      process.stderr.write(`${USAGE}\n`);
      return sub === undefined || sub === 'help' || sub === '--help' ? 0 : 2;
  }
}
