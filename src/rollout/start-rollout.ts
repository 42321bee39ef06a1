import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { createRolloutController, type RolloutController, type RolloutStatus } from './controller.service.js';
import { startControlServer, type ControlServer } from './control/index.js';
import type { Color } from './decision.types.js';
import { combineMetricSources, type MetricSource } from './metrics/metric-source.js';
import { createMigrationGate, type MigrationDatabase, type MigrationGate } from './migrate-preflight.service.js';
import { createPrometheusMetricSource } from './metrics/prometheus/prometheus-metric-source.js';
import { createRouterMetricSource, readRouterStatsOverHttp } from './metrics/router/router-metric-source.js';
import { createScrapeMetricSource } from './metrics/scrape/scrape-metric-source.js';
import type { Plan } from './plan.schema.js';
import { probeColorHealth, runPreflight } from './preflight.service.js';
import { createRouter, type Router, type RouterOptions } from './router/router.js';
import type { RolloutSecrets } from './secrets.js';
import { acquireLease, type Lease } from './state/lease.js';
import { findUnfinishedRollout, readStateFile, type PersistedRollout } from './state/state-file.js';
import { createBuiltinTrafficRouter } from './traffic/builtin/builtin-traffic-router.js';
import { createNginxTrafficRouter, type NginxTrafficOptions } from './traffic/nginx/nginx-traffic-router.js';
import type { TrafficRouter } from './traffic/traffic-router.js';

/** What every way of running a rollout shares. */
interface CommonOptions {
  readonly plan: Plan;
  /** Parent of `<rollout-id>/`; default `rollouts`. Also holds the leases (`.leases/`). */
  readonly reportRoot?: string;
  readonly rolloutId?: string;
  /** The version green's deep health must report (`--green-version`; else the plan's). */
  readonly greenVersion?: string;
  readonly secrets?: Partial<RolloutSecrets>;
  /** Continue an unfinished rollout for the same target found under reportRoot (default true). */
  readonly resume?: boolean;
  readonly onChange?: (status: RolloutStatus) => void;
  /** The shared database and migrations source for `preflight.migrate` (ADR 0011). */
  readonly database?: MigrationDatabase;
  /** The controller's control API + dashboard (`/_rollout/*`, `/ui`); default 127.0.0.1 and a free port. */
  readonly controlHost?: string;
  readonly controlPort?: number;
  /** Its operator token; default the router admin token (embedded, `--router`), else loopback only. */
  readonly controlToken?: string;
}

/** The control API in front of a wired controller; its token is the operator (admin) token. */
function startControl(options: CommonOptions, controller: RolloutController, token: string | undefined): Promise<ControlServer> {
  return startControlServer({ target: controller, token, host: options.controlHost ?? '127.0.0.1', port: options.controlPort ?? 0, logError: (m) => process.stderr.write(`${m}\n`) });
}

export interface StartRolloutOptions extends CommonOptions {
  readonly blue: readonly string[];
  readonly green: readonly string[];
  readonly listenHost: string;
  readonly listenPort: number;
  /** The admin API's own listener; default 127.0.0.1 and a free port. */
  readonly adminHost?: string;
  readonly adminPort?: number;
  readonly adminToken?: string;
  /** HMAC key of the sticky cookie (≥ 32 bytes); default a random one per router. */
  readonly stickySecret?: Buffer;
  /** The embedded router's readiness checks (default: on, see router.ts); `false` turns them off. */
  readonly routerHealthCheck?: RouterOptions['healthCheck'];
}

export interface RunningRollout {
  readonly rolloutId: string;
  readonly routerUrl: string;
  /** The admin API (`/_router/*`), on its own listener. */
  readonly adminUrl: string;
  readonly router: Router;
  /** The controller's control API; the dashboard is `${controlUrl}/ui`. */
  readonly controlUrl: string;
  readonly controller: RolloutController;
  readonly outputDir: string;
  /** Whether this continues a rollout a previous controller left unfinished. */
  readonly resumed: boolean;
  /** Stops the router (after the controller is done or stopped) and closes every client. */
  close(): Promise<void>;
}

/** A controller driving a front door it does not own: a `boka router serve` process or nginx. */
export interface AttachOptions extends CommonOptions {
  /** Default: the upstreams the router reports (`GET /_router/state`); required for nginx. */
  readonly blue?: readonly string[];
  readonly green?: readonly string[];
  readonly driver: { readonly kind: 'router'; readonly adminUrl: string; readonly adminToken?: string } | { readonly kind: 'nginx'; readonly nginx: Omit<NginxTrafficOptions, 'blue' | 'green'> };
}

export interface AttachedRollout {
  readonly rolloutId: string;
  readonly target: string;
  /** The controller's control API; the dashboard is `${controlUrl}/ui`. */
  readonly controlUrl: string;
  readonly controller: RolloutController;
  readonly outputDir: string;
  readonly resumed: boolean;
  /** Closes the controller's clients and releases the lease; never touches the front door. */
  close(): Promise<void>;
}

/** A sortable, readable id: `20250101-120000-ab12`. */
function createRolloutId(now: number, random: () => string = () => randomBytes(2).toString('hex')): string {
  const iso = new Date(now).toISOString();
  return `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}-${random()}`;
}

interface Wiring {
  readonly plan: Plan;
  readonly target: string;
  readonly blue: readonly string[];
  readonly green: readonly string[];
  readonly traffic: TrafficRouter;
  /** The front door's own edge view, when it has one (first: it counts what a crashed color never logged). */
  readonly edge: MetricSource | null;
}

/**
 * Resume lookup, lease, metric sources and the controller: what the embedded and the attached
 * modes share. The lease is taken before the state is read, so two controllers never both
 * resume one rollout; it is released when the rollout ends, on detach and on close.
 */
async function wireController(options: CommonOptions, w: Wiring): Promise<{ controller: RolloutController; rolloutId: string; outputDir: string; resumed: boolean; lease: Lease; metrics: MetricSource; migrationGate: MigrationGate }> {
  const reportRoot = options.reportRoot ?? 'rollouts';
  mkdirSync(reportRoot, { recursive: true });
  const candidate = options.resume === false ? null : findUnfinishedRollout(reportRoot, w.target);
  const rolloutId = candidate?.persisted.rolloutId ?? options.rolloutId ?? createRolloutId(Date.now());
  let controller: RolloutController | null = null;
  const lease = await acquireLease(reportRoot, w.target, rolloutId, (error) => {
    // Someone else may be driving the router now: stop deciding at once, leave traffic alone.
    process.stderr.write(`rollout ${rolloutId}: lease lost (${error.message}); detaching\n`);
    void controller?.detach();
  });
  let resume: PersistedRollout | undefined;
  try {
    resume = candidate ? (readStateFile(candidate.dir) ?? undefined) : undefined;
    if (resume?.finished) resume = undefined;
  } catch (error) {
    await lease.release();
    throw error;
  }
  // A resumed rollout keeps the plan it started with, whatever plan the restart was given.
  const plan = resume?.plan ?? w.plan;
  const outputDir = candidate && resume ? candidate.dir : join(reportRoot, rolloutId);
  const secrets = options.secrets ?? {};
  const sources: MetricSource[] = w.edge ? [w.edge] : [];
  if (plan.metrics.scrapePath) sources.push(createScrapeMetricSource({ blue: w.blue, green: w.green, path: plan.metrics.scrapePath, port: secrets.metricsPort, token: secrets.metricsToken }));
  if (plan.metrics.prometheusUrl) sources.push(createPrometheusMetricSource({ url: plan.metrics.prometheusUrl, rules: plan.rules }));
  const metrics = combineMetricSources(sources);
  const urls: Record<Color, readonly string[]> = { blue: w.blue, green: w.green };
  const expectedVersion = options.greenVersion ?? plan.greenVersion;
  const probe = { token: secrets.healthToken };
  const t = plan.preflight.timeoutMs;
  const migrationGate = createMigrationGate({ plan, blue: w.blue, green: w.green, database: options.database });
  controller = createRolloutController({
    plan,
    rolloutId,
    outputDir,
    target: w.target,
    resume,
    traffic: w.traffic,
    metrics,
    webhookSecretFor: secrets.webhookSecretFor,
    runPreflight: () => migrationGate.runPreflight(() => runPreflight(plan, w.blue, w.green, Date.now, undefined, { ...probe, expectedVersion })),
    verifyRollback: () => migrationGate.verifyRollback(),
    probeDeepHealth: (color) => probeColorHealth(urls[color], plan.preflight.deepPath, t, probe),
    async probeHealth() {
      const [green, blue] = await Promise.all([probeColorHealth(w.green, plan.preflight.deepPath, t, { ...probe, expectedVersion }), probeColorHealth(w.blue, plan.preflight.deepPath, t, probe)]);
      return { ...green, blue };
    },
    onChange: options.onChange,
  });
  void controller.done.then(() => lease.release());
  const wrapped: RolloutController = {
    ...controller,
    async detach() {
      const status = await controller.detach();
      await lease.release();
      return status;
    },
  };
  return { controller: wrapped, rolloutId, outputDir, resumed: resume !== undefined, lease, metrics, migrationGate };
}

/**
 * One-host mode (and the demo): starts the built-in router in this process and a controller
 * driving it over its admin API. The router starts at 0 % green and keeps serving after the
 * rollout ends, since it is the front door; it stops with this process.
 */
export async function startRollout(options: StartRolloutOptions): Promise<RunningRollout> {
  const { plan } = options;
  const router = createRouter({
    blue: options.blue,
    green: options.green,
    initialWeight: 0,
    adminToken: options.adminToken,
    stickySecret: options.stickySecret,
    ...(options.routerHealthCheck === undefined ? {} : { healthCheck: options.routerHealthCheck }),
    retainMs: Math.max(plan.windowMs * 2, 5 * 60_000),
  });
  const { url } = await router.listen(options.listenPort, options.listenHost);
  const admin = await router.listenAdmin(options.adminPort ?? 0, options.adminHost ?? '127.0.0.1');
  const adminUrl = admin.url.replace('0.0.0.0', '127.0.0.1').replace('[::]', '[::1]');
  const traffic = createBuiltinTrafficRouter({ adminUrl, adminToken: options.adminToken });
  let wired: Awaited<ReturnType<typeof wireController>>;
  try {
    wired = await wireController(options, { plan, target: `embedded ${url}`, blue: options.blue, green: options.green, traffic, edge: createRouterMetricSource((w) => router.readStats(w)) });
  } catch (error) {
    await traffic.close();
    await router.close();
    throw error;
  }
  const { controller } = wired;
  router.setControl({ readStatus: () => controller.readStatus(), sendCommand: (c, by) => controller.sendCommand(c, by) });
  const control = await startControl(options, controller, options.controlToken ?? options.adminToken);

  return {
    rolloutId: wired.rolloutId,
    routerUrl: url,
    adminUrl,
    router,
    controlUrl: control.url,
    controller,
    outputDir: wired.outputDir,
    resumed: wired.resumed,
    async close() {
      router.setControl(null);
      await control.close();
      await wired.lease.release();
      wired.migrationGate.close();
      await Promise.all([traffic.close(), wired.metrics.close()]);
      await router.close();
    },
  };
}

/** `GET /_router/state` of a separate router: its upstreams per color. */
async function readRouterUpstreams(adminUrl: string, adminToken: string | undefined): Promise<Record<Color, readonly string[]>> {
  const dispatcher = new Agent({ connections: 1, headersTimeout: 5_000, bodyTimeout: 5_000 });
  try {
    const res = await request(new URL('/_router/state', adminUrl), { headers: adminToken ? { authorization: `Bearer ${adminToken}` } : {}, dispatcher });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`router ${adminUrl}/_router/state: HTTP ${res.statusCode}`);
    const state = JSON.parse(text) as { colors?: Record<Color, { upstreams?: string[] }> };
    const blue = state.colors?.blue.upstreams ?? [];
    const green = state.colors?.green.upstreams ?? [];
    if (blue.length === 0 || green.length === 0) throw new Error(`router ${adminUrl} reports no upstreams; pass --blue and --green`);
    return { blue, green };
  } finally {
    await dispatcher.close();
  }
}

/**
 * The controller as a client of a front door that outlives it (`boka rollout start --router …`
 * or `--driver nginx`): it drives the weight, reads the router's edge stats, and on close only
 * releases its own clients and lease. A restart finds the unfinished rollout for the same
 * target under reportRoot and resumes it.
 */
export async function attachRollout(options: AttachOptions): Promise<AttachedRollout> {
  const { plan, driver } = options;
  let blue = options.blue ?? [];
  let green = options.green ?? [];
  let traffic: TrafficRouter;
  let edge: MetricSource | null = null;
  let target: string;
  if (driver.kind === 'router') {
    if (blue.length === 0 || green.length === 0) ({ blue, green } = await readRouterUpstreams(driver.adminUrl, driver.adminToken));
    traffic = createBuiltinTrafficRouter({ adminUrl: driver.adminUrl, adminToken: driver.adminToken });
    const stats = readRouterStatsOverHttp(driver.adminUrl, driver.adminToken);
    edge = createRouterMetricSource(stats.read, stats.close);
    target = `router ${new URL(driver.adminUrl).origin}`;
  } else {
    if (blue.length === 0 || green.length === 0) throw new Error('--driver nginx needs --blue and --green');
    if (!plan.metrics.scrapePath && !plan.metrics.prometheusUrl) throw new Error('--driver nginx has no edge stats: the plan needs metrics.scrapePath or metrics.prometheus');
    traffic = createNginxTrafficRouter({ ...driver.nginx, blue, green });
    target = `nginx ${driver.nginx.includePath}`;
  }
  // The separate router exports the rollout's phase on its /metrics (`PUT /_router/admin/phase`);
  // best effort: a missed update only shows an old phase on a dashboard.
  let lastPhase: string | null = null;
  const publishPhase = driver.kind === 'router'
    ? (phase: string) => {
        if (phase === lastPhase) return;
        lastPhase = phase;
        const headers: Record<string, string> = { 'content-type': 'application/json', ...(driver.adminToken ? { authorization: `Bearer ${driver.adminToken}` } : {}) };
        void request(new URL('/_router/admin/phase', driver.adminUrl), { method: 'PUT', headers, body: JSON.stringify({ phase }) }).then((res) => res.body.dump(), () => undefined);
      }
    : () => undefined;
  const onChange = (status: RolloutStatus) => {
    publishPhase(status.phase);
    options.onChange?.(status);
  };
  let wired: Awaited<ReturnType<typeof wireController>>;
  try {
    wired = await wireController({ ...options, onChange }, { plan, target, blue, green, traffic, edge });
  } catch (error) {
    await Promise.all([traffic.close(), edge?.close()]);
    throw error;
  }
  const control = await startControl(options, wired.controller, options.controlToken ?? (driver.kind === 'router' ? driver.adminToken : undefined));
  return {
    rolloutId: wired.rolloutId,
    target,
    controlUrl: control.url,
    controller: wired.controller,
    outputDir: wired.outputDir,
    resumed: wired.resumed,
    async close() {
      await control.close();
      await wired.lease.release();
      wired.migrationGate.close();
      await Promise.all([traffic.close(), wired.metrics.close()]);
    },
  };
}
