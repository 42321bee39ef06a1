import { readFileSync } from 'node:fs';

/** A measured phase's wall-clock window (ms since the epoch), to place a slow second in it. */
export interface PhaseWindow { label: string; from: number; to: number }

/**
 * The seconds in which the server itself was slow, from its own request lines (`time`,
 * `durationMs`: the server-side time from request to response, no client or network in it): per
 * wall-clock second with at least `minRequests` answers, the p99 of those durations; the
 * seconds over `thresholdMs` are printed with the phase they fell in. A tail that the client
 * saw but the server did not is the client's or the network's; a run of slow seconds at the same
 * offset in every invocation points at something periodic in the server. `describe` adds what
 * else is known about that second (bench:load: what PostgreSQL's backends were waiting on).
 */
export function printSlowSeconds(
  logFile: string,
  phases: readonly PhaseWindow[],
  describe?: (epochMs: number) => string,
  thresholdMs = 100,
  minRequests = 50,
): void {
  const bySecond = new Map<number, number[]>();
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes('"msg":"request"')) continue;
    const entry = JSON.parse(line) as { time: number; durationMs: number };
    const second = Math.floor(entry.time / 1000);
    const list = bySecond.get(second) ?? [];
    list.push(entry.durationMs);
    bySecond.set(second, list);
  }
  const slow: string[] = [];
  for (const [second, durations] of [...bySecond].sort((a, b) => a[0] - b[0])) {
    if (durations.length < minRequests) continue;
    durations.sort((a, b) => a - b);
    const p99 = durations[Math.ceil(0.99 * durations.length) - 1]!;
    if (p99 <= thresholdMs) continue;
    const at = second * 1000;
    const phase = phases.find((p) => at >= p.from - 1000 && at <= p.to);
    const where = phase ? `${phase.label}, +${Math.max(0, Math.round((at - phase.from) / 1000))} s` : 'between phases';
    const context = describe ? `; PostgreSQL: ${describe(at)}` : '';
    slow.push(`${new Date(at).toISOString().slice(11, 19)} (${where}): ${durations.length} answers, server-side p99 ${p99.toFixed(0)} ms${context}`);
  }
  if (bySecond.size === 0) return;
  console.log(`  seconds with a server-side p99 over ${thresholdMs} ms [${logFile}]: ${slow.length === 0 ? 'none' : ''}`);
  for (const line of slow.slice(0, 40)) console.log(`    ${line}`);
  if (slow.length > 40) console.log(`    … ${slow.length - 40} more`);
}
