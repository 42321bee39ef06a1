import type { ColorWindow } from '../decision.types.js';
import type { RecentError } from '../router/color-pool.js';

/** A color's window as a source reports it; `recentErrors` feeds the incident report. */
export interface SourceWindow extends ColorWindow {
  readonly recentErrors?: readonly RecentError[];
  /** Epoch ms of the earliest failed request in the window (the router's edge view knows it). */
  readonly firstErrorAt?: number;
}

export interface SourceReading {
  readonly green: SourceWindow;
  readonly blue: SourceWindow;
  /**
   * What could not be read in this evaluation ("scrape green http://…/metrics: HTTP 404",
   * "prometheus: timeout"). The controller passes them to the core as `observation.errors`,
   * which counts the evaluation as an analysis error: a missing signal never reads as a pass.
   */
  readonly errors?: readonly string[];
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
      const errors: string[] = [];
      const readings = await Promise.all(
        sources.map((s) => s.collect(windowMs, now).catch((error: unknown): SourceReading => {
          // One broken source must not blind the others, and must not pass unnoticed either:
          // its failure is reported to the core (fail closed), its metrics show as no data.
          errors.push(`${s.name}: ${error instanceof Error ? error.message : String(error)}`);
          return { green: { requests: 0, metrics: {} }, blue: { requests: 0, metrics: {} } };
        })),
      );
      for (const r of readings) errors.push(...(r.errors ?? []));
      const merge = (color: 'green' | 'blue'): SourceWindow => {
        const metrics: Record<string, ColorWindow['metrics'][string]> = {};
        let requests = 0;
        let firstErrorAt: number | undefined;
        const recentErrors: RecentError[] = [];
        for (const r of readings) {
          const w = r[color];
          if (requests === 0 && w.requests > 0) requests = w.requests;
          if (firstErrorAt === undefined && w.firstErrorAt !== undefined) firstErrorAt = w.firstErrorAt;
          for (const [name, value] of Object.entries(w.metrics)) if (value && !metrics[name]) metrics[name] = value;
          recentErrors.push(...(w.recentErrors ?? []));
        }
        return { requests, metrics, recentErrors, ...(firstErrorAt === undefined ? {} : { firstErrorAt }) };
      };
      return { green: merge('green'), blue: merge('blue'), errors };
    },
    async close() {
      await Promise.all(sources.map((s) => s.close()));
    },
  };
}
