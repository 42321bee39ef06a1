/** Renders a metric value in its natural unit: rates as %, latency as ms. */
export function formatMetric(metric: string, value: number): string {
  if (metric.endsWith('_ms')) return `${Math.round(value)}ms`;
  if (metric.endsWith('_rate')) return `${(value * 100).toFixed(2).replace(/\.?0+$/, '')}%`;
  return Number.isInteger(value) ? String(value) : value.toFixed(3);
}
