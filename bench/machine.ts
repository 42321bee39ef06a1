import { cpus, totalmem } from 'node:os';

/** The line every benchmark report starts with: what ran, where, when. */
export function machineHeader(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return [
    `## Run of ${new Date().toISOString()}`,
    '',
    `Machine: ${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ` +
      `database: ${process.env.DATABASE_URL ? 'PostgreSQL server' : 'embedded PGlite'}`,
  ].join('\n');
}

/** p-th percentile (0–100) of a sorted array of numbers. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}
