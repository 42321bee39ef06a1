import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs promtool (Debian package `prometheus`; .ci/run installs it). */
export function promtool(args: readonly string[], cwd?: string): { code: number; output: string } {
  const result = spawnSync('promtool', args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (result.error) throw new Error(`promtool: ${result.error.message} (install the Debian package prometheus)`);
  return { code: result.status ?? 1, output: `${result.stdout}${result.stderr}` };
}

/** Writes files into a fresh temp directory, runs `fn(dir)`, removes the directory. */
export function withFiles<T>(files: Record<string, string>, fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'boka-promtool-'));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A counter series for promtool input: `value` more every step. */
export function counter(labels: string, perStep: number, steps = 30): { series: string; values: string } {
  return { series: labels, values: `0+${perStep}x${steps}` };
}
