/** Public surface of the deploy capability: everything past one host, generated from the rollout plan. */
export { buildK8sBundle, type K8sBundle, type ManifestFile } from './k8s.core.js';
export { resolveK8sOptions, type K8sOptions } from './k8s-options.core.js';
export { buildPrometheusRules, type RuleFile } from './prometheus-rules.core.js';
export { buildAnalysisTemplate, buildSmokeTemplate } from './analysis.core.js';
export { buildGrafanaDashboard, buildPanelSpecs } from './grafana.core.js';
