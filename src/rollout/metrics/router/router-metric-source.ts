import type { RouterStats } from '../../router/router.js';
import type { ColorSummary } from '../../router/color-pool.js';
import type { MetricSource, SourceWindow } from '../metric-source.js';

function toWindow(s: ColorSummary): SourceWindow {
  const metrics: SourceWindow['metrics'] =
    s.requests === 0
      ? {}
      : {
          error_rate: { value: s.errorRate ?? 0, samples: s.requests },
          ...(s.p95Ms === null ? {} : { p95_latency_ms: { value: s.p95Ms, samples: s.requests } }),
        };
  return { requests: s.requests, metrics, recentErrors: s.recentErrors };
}

/**
 * The built-in router's edge counters: requests, 5xx rate and p95 per color. `readStats` is the
 * in-process router or an HTTP call to `/_router/admin/stats`.
 */
export function createRouterMetricSource(readStats: (windowMs: number) => Promise<RouterStats> | RouterStats): MetricSource {
  return {
    name: 'router',
    async collect(windowMs) {
      const stats = await readStats(windowMs);
      return { green: toWindow(stats.green), blue: toWindow(stats.blue) };
    },
    async close() {},
  };
}
