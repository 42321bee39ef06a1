import { Agent, request } from 'undici';
import type { Color } from '../../decision.types.js';
import type { MetricSource, SourceWindow } from '../metric-source.js';
import { addCounters, diffCounters, readBokaCounters, type BokaCounters } from './boka-counters.core.js';
import { parsePrometheusText } from './prom-text.core.js';

export interface ScrapeOptions {
  readonly blue: readonly string[];
  readonly green: readonly string[];
  readonly path: string;
  readonly timeoutMs?: number;
}

/**
 * Scrapes each color's own `/metrics` at every evaluation and keeps the history, so a window is
 * the counter increase between now and the scrape at (or just before) the window's start.
 */
export function createScrapeMetricSource(options: ScrapeOptions): MetricSource {
  const dispatcher = new Agent({ connections: 4, headersTimeout: options.timeoutMs ?? 3_000, bodyTimeout: options.timeoutMs ?? 3_000 });
  const history: Record<Color, { at: number; counters: BokaCounters }[]> = { blue: [], green: [] };

  async function scrape(url: string): Promise<BokaCounters> {
    const res = await request(new URL(options.path, url), { dispatcher });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`${url}${options.path}: ${res.statusCode}`);
    return readBokaCounters(parsePrometheusText(text));
  }

  async function collectColor(color: Color, windowMs: number, now: number): Promise<SourceWindow> {
    const all = await Promise.all(options[color].map(scrape));
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
      const [green, blue] = await Promise.all([collectColor('green', windowMs, now), collectColor('blue', windowMs, now)]);
      return { green, blue };
    },
    async close() {
      await dispatcher.close();
    },
  };
}
