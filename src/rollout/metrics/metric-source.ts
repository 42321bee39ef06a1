import type { ColorWindow } from '../decision.types.js';
import type { RecentError } from '../router/color-pool.js';

/** A color's window as a source reports it; `recentErrors` feeds the incident report. */
export interface SourceWindow extends ColorWindow {
  readonly recentErrors?: readonly RecentError[];
}

export interface SourceReading {
  readonly green: SourceWindow;
  readonly blue: SourceWindow;
}

/**
 * The metric port: one reading of both colors over the window ending now. Implementations live
 * one per folder (`router/`, `scrape/`, `prometheus/`) and all pass
 * test/rollout/metric-source.suite.ts.
 */
export interface MetricSource {
  readonly name: string;
  collect(windowMs: number, now: number): Promise<SourceReading>;
  close(): Promise<void>;
}

/**
 * Merges sources in priority order: requests come from the first source that saw any, and each
 * metric from the first source that has it. Put the router first: its edge view counts the
 * requests a crashed color never logged.
 */
export function combineMetricSources(sources: readonly MetricSource[]): MetricSource {
  return {
    name: sources.map((s) => s.name).join('+'),
    async collect(windowMs, now) {
      const readings = await Promise.all(
        sources.map((s) => s.collect(windowMs, now).catch((error: unknown) => {
          // One broken source must not blind the others; its metrics simply show as no data.
          const note = error instanceof Error ? error.message : String(error);
          return { green: { requests: 0, metrics: {}, error: note }, blue: { requests: 0, metrics: {}, error: note } };
        })),
      );
      const merge = (color: 'green' | 'blue'): SourceWindow => {
        const metrics: Record<string, ColorWindow['metrics'][string]> = {};
        let requests = 0;
        const recentErrors: RecentError[] = [];
        for (const r of readings) {
          const w = r[color];
          if (requests === 0 && w.requests > 0) requests = w.requests;
          for (const [name, value] of Object.entries(w.metrics)) if (value && !metrics[name]) metrics[name] = value;
          recentErrors.push(...('recentErrors' in w && w.recentErrors ? w.recentErrors : []));
        }
        return { requests, metrics, recentErrors };
      };
      return { green: merge('green'), blue: merge('blue') };
    },
    async close() {
      await Promise.all(sources.map((s) => s.close()));
    },
  };
}
