import type { RolloutStatus } from './controller.service.js';
import { formatDuration } from './duration.core.js';
import { formatMetric } from './format.core.js';
import type { SourceWindow } from './metrics/metric-source.js';

const BOLD = '\x1b[1m';
const RESET = '\x1b[0m';
const PHASE_COLOR: Record<string, string> = { promoted: '\x1b[32m', rolled_back: '\x1b[31m', rolling_back: '\x1b[31m', aborted: '\x1b[33m', paused: '\x1b[33m' };

function metric(w: SourceWindow | undefined, name: string): string {
  const v = w?.metrics[name];
  return v ? formatMetric(name, v.value) : '-';
}

function bar(weight: number, width = 30): string {
  const green = Math.round((weight / 100) * width);
  return `[${'#'.repeat(green)}${'.'.repeat(width - green)}]`;
}

/** Renders the status as a small screen: step, weights, per-color numbers and the last decision. */
export function renderStatus(status: RolloutStatus, now: number, ansi: boolean): string {
  const b = (s: string) => (ansi ? `${BOLD}${s}${RESET}` : s);
  const phase = ansi ? `${PHASE_COLOR[status.phase] ?? ''}${status.phase}${RESET}` : status.phase;
  const r = status.lastReading;
  const elapsed = status.startedAt === null ? '' : ` · ${formatDuration(now - status.startedAt)} elapsed`;
  const row = (name: string, w: SourceWindow | undefined) =>
    `  ${name.padEnd(6)} ${String(w?.requests ?? 0).padStart(7)}  ${metric(w, 'error_rate').padStart(8)}  ${metric(w, 'p95_latency_ms').padStart(8)}  ${metric(w, 'db_error_rate').padStart(8)}`;
  const lines = [
    `${b(`Boka rollout ${status.rolloutId}`)}  ${phase}${status.pauseReason ? ` (${status.pauseReason})` : ''}${elapsed}`,
    `  step ${Math.max(status.step + 1, 0)}/${status.steps}   blue ${100 - status.weight}% ${bar(status.weight)} green ${status.weight}%`,
    '',
    `  ${'color'.padEnd(6)} ${'requests'.padStart(7)}  ${'errors'.padStart(8)}  ${'p95'.padStart(8)}  ${'db err'.padStart(8)}   (window, edge + /metrics)`,
    row('blue', r?.blue),
    row('green', r?.green),
    '',
    `  last decision: ${status.lastDecision ? `${status.lastDecision.kind}: ${status.lastDecision.message}` : '-'}`,
  ];
  if (status.outcome) lines.push('', `  outcome: ${b(status.outcome)}  report: ${status.outputDir}/report.md`);
  return lines.join('\n');
}
