import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatPlanErrors, loadPlan } from '../rollout/plan.core.js';
import type { Plan } from '../rollout/plan.schema.js';
import { buildGrafanaDashboard } from './grafana.core.js';
import { resolveK8sOptions } from './k8s-options.core.js';
import { buildK8sBundle } from './k8s.core.js';
import { buildPrometheusRules } from './prometheus-rules.core.js';
import { renderJson, renderManifestFile, renderRuleFile } from './render.core.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The plan and image the golden copy under examples/k8s/ is generated from. */
export const EXAMPLE_PLAN = 'examples/rollout.yaml';
export const EXAMPLE_IMAGE = 'ghcr.io/example/boka:1.1.0';
export const EXAMPLES_DIR = 'examples/k8s';

export function readPlanFile(path: string): Plan {
  const loaded = loadPlan(readFileSync(path, 'utf8'));
  if (!loaded.ok) throw new Error(`invalid plan:\n${formatPlanErrors(loaded.errors, path)}`);
  return loaded.plan;
}

/**
 * The golden output, path (relative to the repository) → content. Written by
 * `npm run deploy:examples`; test/deploy/golden.test.ts checks it is current.
 */
export function renderExamples(root = REPO_ROOT): Map<string, string> {
  const plan = readPlanFile(`${root}${EXAMPLE_PLAN}`);
  const out = new Map<string, string>();
  for (const file of buildK8sBundle(plan, resolveK8sOptions({ image: EXAMPLE_IMAGE })).files) {
    out.set(`${EXAMPLES_DIR}/${file.file}`, renderManifestFile(file));
  }
  out.set(`${EXAMPLES_DIR}/prometheus/boka.rules.yaml`, renderRuleFile(buildPrometheusRules(plan).file));
  out.set(`${EXAMPLES_DIR}/grafana/boka-dashboard.json`, renderJson(buildGrafanaDashboard(plan)));
  return out;
}
