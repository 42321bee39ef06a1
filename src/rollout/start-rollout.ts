import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createRolloutController, type RolloutController, type RolloutStatus } from './controller.service.js';
import { startControlServer } from './control/index.js';
import type { Color } from './decision.types.js';
import { combineMetricSources, type MetricSource } from './metrics/metric-source.js';
import { createPrometheusMetricSource } from './metrics/prometheus/prometheus-metric-source.js';
import { createRouterMetricSource } from './metrics/router/router-metric-source.js';
import { createScrapeMetricSource } from './metrics/scrape/scrape-metric-source.js';
import type { Plan } from './plan.schema.js';
import { probeHealth, runPreflight } from './preflight.service.js';
import { createRouter, type Router } from './router/router.js';
import { createBuiltinTrafficRouter } from './traffic/builtin/builtin-traffic-router.js';

export interface StartRolloutOptions {
  readonly plan: Plan;
  readonly blue: readonly string[];
  readonly green: readonly string[];
  readonly listenHost: string;
  readonly listenPort: number;
  /** The admin API's own listener; default 127.0.0.1 and a free port. */
  readonly adminHost?: string;
  readonly adminPort?: number;
  readonly adminToken?: string;
  /** The controller's control API + dashboard (`/_rollout/*`, `/ui`); default 127.0.0.1 and a free port. Same token as the admin API. */
  readonly controlHost?: string;
  readonly controlPort?: number;
  /** HMAC key of the sticky cookie (≥ 32 bytes); default a random one per router. */
  readonly stickySecret?: Buffer;
  /** Parent of `<rollout-id>/`; default `rollouts`. */
  readonly reportRoot?: string;
  readonly rolloutId?: string;
  readonly onChange?: (status: RolloutStatus) => void;
}

export interface RunningRollout {
  readonly rolloutId: string;
  readonly routerUrl: string;
  /** The admin API (`/_router/*`), on its own listener. */
  readonly adminUrl: string;
  /** The controller's control API; the dashboard is `${controlUrl}/ui`. */
  readonly controlUrl: string;
  readonly router: Router;
  readonly controller: RolloutController;
  readonly outputDir: string;
  /** Stops the router (after the controller is done or stopped) and closes every client. */
  close(): Promise<void>;
}

/** A sortable, readable id: `20250101-120000-ab12`. */
function createRolloutId(now: number, random: () => string = () => randomBytes(2).toString('hex')): string {
  const iso = new Date(now).toISOString();
  return `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}-${random()}`;
}

/**
 * Wires the built-in router, its traffic driver, the metric sources and the controller, the
 * way `boka rollout start` runs them. The router starts at 0 % green and keeps serving after the
 * rollout ends, since it is the front door.
 */
export async function startRollout(options: StartRolloutOptions): Promise<RunningRollout> {
  const { plan } = options;
  const rolloutId = options.rolloutId ?? createRolloutId(Date.now());
  const outputDir = join(options.reportRoot ?? 'rollouts', rolloutId);
  const router = createRouter({
    blue: options.blue,
    green: options.green,
    initialWeight: 0,
    adminToken: options.adminToken,
    stickySecret: options.stickySecret,
    retainMs: Math.max(plan.windowMs * 2, 5 * 60_000),
  });
  const { url } = await router.listen(options.listenPort, options.listenHost);
  const admin = await router.listenAdmin(options.adminPort ?? 0, options.adminHost ?? '127.0.0.1');
  const adminUrl = admin.url.replace('0.0.0.0', '127.0.0.1').replace('[::]', '[::1]');
  const traffic = createBuiltinTrafficRouter({ adminUrl, adminToken: options.adminToken });
  const sources: MetricSource[] = [createRouterMetricSource((w) => router.readStats(w))];
  if (plan.metrics.scrapePath) sources.push(createScrapeMetricSource({ blue: options.blue, green: options.green, path: plan.metrics.scrapePath }));
  if (plan.metrics.prometheusUrl) sources.push(createPrometheusMetricSource({ url: plan.metrics.prometheusUrl, rules: plan.rules }));
  const metrics = combineMetricSources(sources);
  const urls: Record<Color, readonly string[]> = { blue: options.blue, green: options.green };

  const controller = createRolloutController({
    plan,
    rolloutId,
    outputDir,
    traffic,
    metrics,
    runPreflight: () => runPreflight(plan, options.blue, options.green, Date.now),
    async probeDeepHealth(color) {
      const results = await Promise.all(urls[color].map((u) => probeHealth(u, plan.preflight.deepPath, plan.preflight.timeoutMs)));
      return { ok: results.every((r) => r.ok), detail: results.map((r) => `${r.name} ${r.detail}`).join('; ') };
    },
    onChange: options.onChange,
  });
  router.setControl({ readStatus: () => controller.readStatus(), sendCommand: (c, by) => controller.sendCommand(c, by) });
  const control = await startControlServer({ target: controller, token: options.adminToken, host: options.controlHost ?? '127.0.0.1', port: options.controlPort ?? 0, logError: (m) => process.stderr.write(`${m}\n`) });

  return {
    rolloutId,
    routerUrl: url,
    adminUrl,
    controlUrl: control.url,
    router,
    controller,
    outputDir,
    async close() {
      router.setControl(null);
      await control.close();
      await Promise.all([traffic.close(), metrics.close()]);
      await router.close();
    },
  };
}
