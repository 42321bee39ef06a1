/** One sample line of the Prometheus text exposition format. */
export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)(?:\s+-?\d+)?\s*$/;

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/gy;
  const inner = text.slice(1, -1).trim();
  re.lastIndex = 0;
  let match: RegExpExecArray | null;
  let consumed = 0;
  while ((match = re.exec(inner)) !== null) {
    labels[match[1] ?? ''] = (match[2] ?? '').replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    consumed = re.lastIndex;
    while (inner[consumed] === ' ') consumed++;
    re.lastIndex = consumed;
  }
  if (consumed < inner.length) throw new Error(`bad labels: ${text}`);
  return labels;
}

function parseValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

/**
 * Parses Prometheus text format (version 0.0.4) into samples. Comments and malformed lines are
 * skipped; counters, gauges and histogram `_bucket`/`_sum`/`_count` lines all come out as samples.
 */
export function parsePrometheusText(text: string): PromSample[] {
  const samples: PromSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const match = LINE.exec(line);
    if (!match) continue;
    try {
      const value = parseValue(match[3] ?? '');
      if (Number.isNaN(value)) continue;
      samples.push({ name: match[1] ?? '', labels: match[2] ? parseLabels(match[2]) : {}, value });
    } catch {
      continue;
    }
  }
  return samples;
}

/** Sums the samples of one metric whose labels pass `filter`. */
export function sumSamples(samples: readonly PromSample[], name: string, filter: (labels: Readonly<Record<string, string>>) => boolean = () => true): number {
  let total = 0;
  for (const s of samples) if (s.name === name && filter(s.labels)) total += s.value;
  return total;
}
