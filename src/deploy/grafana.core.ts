import type { BuiltinMetric, Plan, Rule } from '../rollout/plan.schema.js';
import { isBuiltin } from './prometheus-rules.core.js';
import { BY_VERSION, RECORDED, SERVED, formatNumber, formatPromDuration, metricValue, recordedName } from './promql.core.js';

/** The dashboard's `version` variable, as each query writes it. */
export const VERSION_MATCHER = 'version=~"$version"';

export interface PanelSpec {
  readonly title: string;
  readonly unit: string;
  readonly targets: readonly { readonly expr: string; readonly legendFormat: string }[];
  /** A threshold line (the plan's rule), in the panel's unit. */
  readonly threshold?: number;
}

const UNIT: Record<'ratio' | 'seconds', string> = { ratio: 'percentunit', seconds: 's' };

/** The panels, by version. Exported separately so the end-to-end test can run every query. */
export function buildPanelSpecs(plan: Plan): PanelSpec[] {
  const w = formatPromDuration(plan.windowMs);
  const v = VERSION_MATCHER;
  const byVersion = (inner: string, extra = '') => `sum by (version${extra}) (${inner})`;
  const panels: PanelSpec[] = [
    { title: 'Request rate', unit: 'reqps', targets: [{ expr: byVersion(`rate(boka_http_requests_total{${v},${SERVED}}[${w}])`), legendFormat: '{{version}}' }] },
    { title: 'Error rate (5xx)', unit: 'percentunit', targets: [{ expr: metricValue('error_rate', v, plan.windowMs, BY_VERSION), legendFormat: '{{version}}' }] },
    {
      title: 'Latency p95 / p99',
      unit: 's',
      targets: [0.95, 0.99].map((q) => ({
        expr: `histogram_quantile(${q}, ${byVersion(`rate(boka_http_request_duration_seconds_bucket{${v},${SERVED}}[${w}])`, ', le')})`,
        legendFormat: `{{version}} p${Math.round(q * 100)}`,
      })),
    },
    { title: 'Auth failures by reason', unit: 'reqps', targets: [{ expr: byVersion(`rate(boka_auth_failures_total{${v}}[${w}])`, ', reason'), legendFormat: '{{version}} {{reason}}' }] },
    { title: 'Sessions created / failed', unit: 'reqps', targets: [{ expr: byVersion(`rate(boka_sessions_created_total{${v}}[${w}])`, ', result'), legendFormat: '{{version}} {{result}}' }] },
    { title: 'Database errors by kind', unit: 'reqps', targets: [{ expr: byVersion(`rate(boka_db_errors_total{${v}}[${w}])`, ', kind'), legendFormat: '{{version}} {{kind}}' }] },
    {
      title: 'Cache hit rate',
      unit: 'percentunit',
      targets: [
        {
          expr: `${byVersion(`rate(boka_cache_requests_total{${v},result="hit"}[${w}])`, ', cache')} / ${byVersion(`rate(boka_cache_requests_total{${v}}[${w}])`, ', cache')}`,
          legendFormat: '{{version}} {{cache}}',
        },
      ],
    },
  ];
  // One panel per plan rule, on the recorded series the alert uses, with its threshold drawn.
  for (const rule of plan.rules) {
    if (!isBuiltin(rule.metric)) continue;
    const r = rule as Rule & { metric: BuiltinMetric };
    panels.push({
      title: `Rule ${rule.name}: ${rule.metric} ${rule.op} ${formatNumber(rule.threshold)}${rule.forMs ? ` for ${formatPromDuration(rule.forMs)}` : ''} → ${rule.action}`,
      unit: UNIT[RECORDED[r.metric].unit],
      targets: [{ expr: `${recordedName(r.metric, plan.windowMs)}{${v}}`, legendFormat: '{{version}}' }],
      threshold: RECORDED[r.metric].toRecorded(rule.threshold),
    });
  }
  return panels;
}

/**
 * A Grafana dashboard (JSON model, schemaVersion 39) with a `datasource` and a multi-value
 * `version` variable. The router has no Prometheus endpoint, so there is no weight panel; the
 * request-rate panel shows the split by version instead.
 */
export function buildGrafanaDashboard(plan: Plan): Record<string, unknown> {
  const datasource = { type: 'prometheus', uid: '${datasource}' };
  const panels = buildPanelSpecs(plan).map((p, i) => ({
    id: i + 1,
    type: 'timeseries',
    title: p.title,
    datasource,
    gridPos: { h: 8, w: 12, x: (i % 2) * 12, y: Math.floor(i / 2) * 8 },
    fieldConfig: {
      defaults: {
        unit: p.unit,
        ...(p.threshold === undefined
          ? {}
          : {
              custom: { thresholdsStyle: { mode: 'line' } },
              thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }, { color: 'red', value: p.threshold }] },
            }),
      },
      overrides: [],
    },
    options: { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi' } },
    targets: p.targets.map((t, j) => ({ refId: String.fromCharCode(65 + j), datasource, expr: t.expr, legendFormat: t.legendFormat })),
  }));
  return {
    uid: 'boka-rollout',
    title: 'Boka: release by version',
    tags: ['boka', 'rollout'],
    timezone: 'utc',
    schemaVersion: 39,
    refresh: '10s',
    time: { from: 'now-1h', to: 'now' },
    templating: {
      list: [
        { name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Prometheus' },
        {
          name: 'version',
          type: 'query',
          datasource,
          query: { query: 'label_values(boka_http_requests_total, version)', refId: 'versions' },
          definition: 'label_values(boka_http_requests_total, version)',
          multi: true,
          includeAll: true,
          allValue: '.*',
          refresh: 2,
          sort: 1,
        },
      ],
    },
    panels,
  };
}
