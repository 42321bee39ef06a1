import { Agent, request } from 'undici';
import type { Color } from '../../decision.types.js';
import type { MetricSource, SourceWindow } from '../metric-source.js';
import { addCounters, diffCounters, readBokaCounters, type BokaCounters } from './boka-counters.core.js';
import { parsePrometheusText } from './prom-text.core.js';

export interface ScrapeOptions {
  readonly blue: readonly string[];
  readonly green: readonly string[];
  readonly path: string;
  /** The instances' separate metrics listener (`METRICS_PORT`); default: the URL's own port. */
  readonly port?: number;
  /** Sent as `Authorization: Bearer …` (`METRICS_TOKEN`); never logged. */
  readonly token?: string;
  readonly timeoutMs?: number;
}

/**
 * Scrapes each color's own `/metrics` at every evaluation and keeps the history, so a window is
 * the counter increase between now and the scrape at (or just before) the window's start.
 */
export function createScrapeMetricSource(options: ScrapeOptions): MetricSource {
  const dispatcher = new Agent({ connections: 4, headersTimeout: options.timeoutMs ?? 3_000, bodyTimeout: options.timeoutMs ?? 3_000 });
  const history: Record<Color, { at: number; counters: BokaCounters }[]> = { blue: [], green: [] };

  const headers: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};

  function metricsUrl(base: string): URL {
    const url = new URL(options.path, base);
    if (options.port) url.port = String(options.port);
    return url;
  }

  async function scrape(base: string): Promise<BokaCounters> {
    const url = metricsUrl(base);
    const res = await request(url, { headers, dispatcher });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
    return readBokaCounters(parsePrometheusText(text));
  }

  /**
   * A color is only judged on a complete scrape: if any of its instances cannot be read, the
   * color has no scrape metrics this time and each failure is reported (fail closed).
   */
  async function collectColor(color: Color, windowMs: number, now: number, errors: string[]): Promise<SourceWindow> {
    const settled = await Promise.all(
      options[color].map((base) =>
        scrape(base).catch((error: unknown) => {
          errors.push(`scrape ${color} ${metricsUrl(base).href}: ${error instanceof Error ? error.message : String(error)}`);
          return null;
        }),
      ),
    );
    const all = settled.filter((c): c is BokaCounters => c !== null);
    if (all.length !== settled.length || all.length === 0) return { requests: 0, metrics: {} };
    const counters = all.reduce(addCounters);
    const past = history[color];
    past.push({ at: now, counters });
    // Keep one scrape older than the window so the window is fully covered.
    while (past.length > 2 && (past[1]?.at ?? now) <= now - windowMs) past.shift();
    const base = past.find((p, i) => p.at <= now - windowMs && (past[i + 1]?.at ?? Infinity) > now - windowMs) ?? past[0];
    if (!base || base.at === now) return { requests: 0, metrics: {} };
    return diffCounters(counters, base.counters);
  }

  return {
    name: 'scrape',
    async collect(windowMs, now) {
      const errors: string[] = [];
      const [green, blue] = await Promise.all([collectColor('green', windowMs, now, errors), collectColor('blue', windowMs, now, errors)]);
      return { green, blue, errors };
    },
    async close() {
      await dispatcher.close();
    },
  };
}
