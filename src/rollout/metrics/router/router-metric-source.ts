import { Agent, request } from 'undici';
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
  // The window summary's own first-error time when the stats carry it; else the oldest retained
  // error (the router keeps the last few, so that is an upper bound on the true first one).
  const known = (s as ColorSummary & { firstErrorAt?: number | null }).firstErrorAt;
  const oldest = s.recentErrors.reduce<number | undefined>((min, e) => (min === undefined || e.at < min ? e.at : min), undefined);
  const firstErrorAt = known ?? oldest;
  return { requests: s.requests, metrics, recentErrors: s.recentErrors, ...(firstErrorAt == null ? {} : { firstErrorAt }) };
}

/**
 * The built-in router's edge counters: requests, 5xx rate and p95 per color. `readStats` is the
 * in-process router or an HTTP call to `/_router/admin/stats` (`readRouterStatsOverHttp`).
 */
export function createRouterMetricSource(readStats: (windowMs: number) => Promise<RouterStats> | RouterStats, close: () => Promise<void> = async () => undefined): MetricSource {
  return {
    name: 'router',
    async collect(windowMs) {
      const stats = await readStats(windowMs);
      return { green: toWindow(stats.green), blue: toWindow(stats.blue) };
    },
    close,
  };
}

/** `GET /_router/admin/stats?windowMs=` on a separate router's admin listener (`boka router serve`). */
export function readRouterStatsOverHttp(adminUrl: string, adminToken: string | undefined, timeoutMs = 3_000): { read: (windowMs: number) => Promise<RouterStats>; close: () => Promise<void> } {
  const dispatcher = new Agent({ connections: 2, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const headers: Record<string, string> = adminToken ? { authorization: `Bearer ${adminToken}` } : {};
  return {
    async read(windowMs) {
      const url = new URL('/_router/admin/stats', adminUrl);
      url.searchParams.set('windowMs', String(windowMs));
      const res = await request(url, { headers, dispatcher });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`${url.origin}/_router/admin/stats: HTTP ${res.statusCode}`);
      return JSON.parse(text) as RouterStats;
    },
    close: () => dispatcher.close(),
  };
}
