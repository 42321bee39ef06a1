import { Agent, request } from 'undici';
import type { Color } from '../../decision.types.js';
import type { Rule } from '../../plan.schema.js';
import type { MetricSource, SourceWindow } from '../metric-source.js';

export interface PrometheusOptions {
  readonly url: string;
  /** Rules that carry a PromQL `query`; others are left to the other sources. */
  readonly rules: readonly Rule[];
  readonly timeoutMs?: number;
}

/** Fills `$color` and `$window` (e.g. `60s`) into a PromQL template. */
export function fillQuery(template: string, color: Color, windowMs: number): string {
  const window = `${Math.max(1, Math.round(windowMs / 1000))}s`;
  return template.replaceAll('$color', color).replaceAll('$window', window);
}

/**
 * Asks a Prometheus server, one instant query per rule and color. Without a `samplesQuery` a
 * value counts as one sample: the plan's minSamples on green requests still gates judging.
 */
export function createPrometheusMetricSource(options: PrometheusOptions): MetricSource {
  const dispatcher = new Agent({ connections: 4, headersTimeout: options.timeoutMs ?? 5_000, bodyTimeout: options.timeoutMs ?? 5_000 });
  const rules = options.rules.filter((r) => r.query !== null);

  async function query(promql: string, now: number): Promise<number | null> {
    const url = new URL('/api/v1/query', options.url);
    url.searchParams.set('query', promql);
    url.searchParams.set('time', String(now / 1000));
    const res = await request(url, { dispatcher });
    const body = (await res.body.json()) as { status?: string; error?: string; data?: { resultType?: string; result?: unknown } };
    if (res.statusCode !== 200 || body.status !== 'success') throw new Error(`${body.error ?? `HTTP ${res.statusCode}`} for ${promql}`);
    const result = body.data?.result;
    if (body.data?.resultType === 'scalar') return Number((result as [number, string])[1]);
    const first = (result as { value: [number, string] }[] | undefined)?.[0];
    if (!first) return null;
    const value = Number(first.value[1]);
    return Number.isFinite(value) ? value : null;
  }

  async function collectColor(color: Color, windowMs: number, now: number): Promise<SourceWindow> {
    const metrics: Record<string, { value: number; samples: number }> = {};
    await Promise.all(
      rules.map(async (rule) => {
        if (!rule.query) return;
        const value = await query(fillQuery(rule.query.value, color, windowMs), now);
        if (value === null) return;
        const samples = rule.query.samples ? await query(fillQuery(rule.query.samples, color, windowMs), now) : 1;
        metrics[rule.metric] = { value, samples: samples ?? 0 };
      }),
    );
    return { requests: 0, metrics };
  }

  return {
    name: 'prometheus',
    async collect(windowMs, now) {
      const [green, blue] = await Promise.all([collectColor('green', windowMs, now), collectColor('blue', windowMs, now)]);
      return { green, blue };
    },
    async close() {
      await dispatcher.close();
    },
  };
}
