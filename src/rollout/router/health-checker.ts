import { Agent, request } from 'undici';
import type { ColorPool } from './color-pool.js';
import { isConnectionError } from './proxy.js';

export interface HealthCheckOptions {
  /** Readiness path on every upstream; 2xx means ready. */
  readonly path: string;
  readonly intervalMs: number;
  /** Whole-check budget (connect, headers, body); past it the check failed. */
  readonly timeoutMs: number;
}

export const DEFAULT_HEALTH_CHECK: HealthCheckOptions = { path: '/api/health/ready', intervalMs: 250, timeoutMs: 750 };

/**
 * Active readiness checks of every upstream of both colors, each on its own timer, on a
 * dispatcher of their own so that a saturated traffic pool never delays them. Checks keep
 * running at the interval whatever the answer; a check never overlaps the previous one of
 * the same upstream. Returns the function that stops them.
 */
export function startHealthChecks(pools: readonly ColorPool[], options: HealthCheckOptions, now: () => number): () => Promise<void> {
  const t = options.timeoutMs;
  const dispatcher = new Agent({ connections: 2, headersTimeout: t, bodyTimeout: t, connect: { timeout: t }, keepAliveTimeout: Math.max(options.intervalMs * 4, 1_000) });
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();

  async function checkOnce(pool: ColorPool, url: string): Promise<void> {
    let ok = false;
    let hard = false;
    let detail: string | null = null;
    try {
      const res = await request(new URL(options.path, url), { method: 'GET', dispatcher, signal: AbortSignal.timeout(t), headers: { 'user-agent': 'boka-router-health' } });
      await res.body.dump({ limit: 16_384 });
      ok = res.statusCode >= 200 && res.statusCode < 300;
      if (!ok) detail = `readiness ${options.path} answered ${res.statusCode}`;
    } catch (error) {
      hard = isConnectionError(error);
      detail = `readiness ${options.path}: ${error instanceof Error ? `${error.name}: ${(error as NodeJS.ErrnoException).code ?? error.message}` : String(error)}`;
    }
    if (!stopped) pool.recordHealth(url, ok ? { ok: true } : { ok: false, hard }, now(), detail);
  }

  function schedule(pool: ColorPool, url: string, delayMs: number): void {
    if (stopped) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      void checkOnce(pool, url).finally(() => schedule(pool, url, options.intervalMs));
    }, delayMs);
    // The checks alone never keep a process alive; the listeners do.
    timer.unref();
    timers.add(timer);
  }

  for (const pool of pools) for (const url of pool.upstreams) schedule(pool, url, 0);

  return async () => {
    stopped = true;
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    // Checks still in flight are cut: they no longer matter and must not delay a shutdown.
    await dispatcher.destroy();
  };
}
