import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Color } from '../decision.types.js';
import { chooseColor, extractStickyKey, hashToBucket, signStickyId, STICKY_COOKIE } from '../sticky.core.js';
import { handleAdmin, type RolloutControl } from './admin.js';
import { ColorPool, type ColorSummary, type UpstreamView } from './color-pool.js';
import { routeColor, type HealthStatus, type HealthThresholds, type UpstreamHealth } from './edge.core.js';
import { DEFAULT_HEALTH_CHECK, startHealthChecks, type HealthCheckOptions } from './health-checker.js';
import { forwardRequest, type ForwardTarget } from './proxy.js';
import { createRouterMetrics, type RouterMetrics } from './router-metrics.js';
import type { PersistedRouterState, RouterStateStore } from './state-file.js';

export type { RolloutControl } from './admin.js';

export interface RouterOptions {
  readonly blue: readonly string[];
  readonly green: readonly string[];
  readonly initialWeight?: number;
  /** Restored from a state file, so versions keep increasing across restarts. */
  readonly initialVersion?: number;
  readonly initialPhase?: string | null;
  /** Where weight and phase changes made through the admin API are saved before they apply. */
  readonly stateStore?: RouterStateStore;
  /**
   * Bearer token for the admin API (`/_router/*` on the admin listener); once set, every caller
   * needs it, loopback included. Without it only loopback callers are admitted.
   */
  readonly adminToken?: string;
  /** Clock for latency and windows; injectable for tests. */
  readonly now?: () => number;
  /** Id source for new clients' sticky cookie (1-64 characters of [A-Za-z0-9_-]). */
  readonly createStickyId?: () => string;
  /**
   * HMAC key for the sticky cookie (at least 32 bytes). Routers sharing traffic must share it;
   * without it each router makes a random one, so clients are re-assigned after a restart.
   */
  readonly stickySecret?: Buffer;
  readonly retainMs?: number;
  readonly upstreamTimeoutMs?: number;
  /** On close, how long busy connections may take before they are cut. */
  readonly closeGraceMs?: number;
  /**
   * Active readiness checks of every upstream (default `/api/health/ready` every 250 ms, 750 ms
   * budget). `false` turns them off, and with them passive ejection (nothing would bring an
   * ejected upstream back) and the shift of an ejected color's share.
   */
  readonly healthCheck?: HealthCheckOptions | false;
  /**
   * Passing checks in a row before an ejected upstream gets traffic again (default 2), and
   * soft failures in a row (timeout, non-2xx) before it is ejected (default 2); a refused or
   * reset connection ejects at once.
   */
  readonly healthThresholds?: Partial<HealthThresholds>;
  /** Told of every saved weight or phase change (the serve command logs them). */
  readonly onStateChange?: (state: RouterState, changed: 'weight' | 'phase') => void;
  /** Told of every upstream health change (the serve command logs them). */
  readonly onHealthChange?: (color: Color, url: string, next: UpstreamHealth, previous: UpstreamHealth) => void;
}

/** One color in `GET /_router/state`. `upstreams` and `inflight` predate health checking and stay. */
export interface ColorState {
  readonly upstreams: readonly string[];
  readonly inflight: number;
  /** healthy: some upstream passes its checks; unhealthy: every upstream is ejected (no traffic). */
  readonly health: HealthStatus;
  readonly instances: readonly UpstreamView[];
}

/** What `GET /_router/state` returns: the weight every new request is routed with. */
export interface RouterState {
  readonly greenWeight: number;
  /** Increments on every weight change, so a reader can tell its own write from an older one. */
  readonly version: number;
  readonly updatedAt: number;
  /** The rollout phase the controller last reported (`PUT /_router/admin/phase`), or null. */
  readonly phase: string | null;
  readonly colors: Readonly<Record<Color, ColorState>>;
}

export interface RouterStats {
  readonly at: number;
  readonly windowMs: number;
  readonly greenWeight: number;
  readonly blue: ColorSummary;
  readonly green: ColorSummary;
}

export interface Router {
  /** The traffic listener: proxies everything; `/_router/*` is not served here. */
  listen(port: number, host: string): Promise<{ url: string; port: number }>;
  /** The admin listener, on its own address: only `/_router/*` (policy `operator('router_admin')`). */
  listenAdmin(port: number, host: string): Promise<{ url: string; port: number }>;
  close(): Promise<void>;
  /** Applies to requests that start after this call; in-flight ones finish where they are. */
  setWeight(greenWeight: number): RouterState;
  /** Saves the weight to the state store (when there is one), then applies it: what the admin API uses. */
  saveWeight(greenWeight: number): Promise<RouterState>;
  /** Saves and records the rollout phase a controller reports (shown in state and /metrics). */
  savePhase(phase: string | null): Promise<RouterState>;
  readState(): RouterState;
  readStats(windowMs: number): RouterStats;
  waitForDrain(color: Color, timeoutMs: number): Promise<boolean>;
  setControl(control: RolloutControl | null): void;
  /** The router's Prometheus registry (served as `/metrics` on the admin listener). */
  readonly metrics: RouterMetrics;
}

/**
 * The built-in weighted reverse proxy: one node:http server, one undici Pool per upstream.
 * Every request reads the weight once, so a weight change is atomic for new requests.
 */
export function createRouter(options: RouterOptions): Router {
  const now = options.now ?? Date.now;
  const createStickyId = options.createStickyId ?? randomUUID;
  const stickySecret = options.stickySecret ?? randomBytes(32);
  if (stickySecret.length < 32) throw new RangeError('the sticky secret must be at least 32 bytes');
  const retainMs = options.retainMs ?? 15 * 60_000;
  const timeout = options.upstreamTimeoutMs ?? 30_000;
  const healthCheck = options.healthCheck === undefined ? DEFAULT_HEALTH_CHECK : options.healthCheck;
  const thresholds: HealthThresholds = { healthyAfter: 2, unhealthyAfter: 2, ...options.healthThresholds };
  const metrics = createRouterMetrics(
    () => ({ greenWeight: weight, phase, inflight: (c) => pools[c].inflight, upstreams: (c) => pools[c].upstreamHealth }),
    options.onHealthChange,
  );
  const pools: Record<Color, ColorPool> = {
    blue: new ColorPool('blue', options.blue, retainMs, timeout, thresholds, metrics),
    green: new ColorPool('green', options.green, retainMs, timeout, thresholds, metrics),
  };
  const stopHealthChecks = healthCheck ? startHealthChecks([pools.blue, pools.green], healthCheck, now) : async () => undefined;
  const fallbackFor = (color: Color) => (): ForwardTarget | null => {
    const other: Color = color === 'green' ? 'blue' : 'green';
    return healthCheck && !pools[other].routable ? null : { color: other, pool: pools[other] };
  };
  const fallbacks: Record<Color, () => ForwardTarget | null> = { blue: fallbackFor('blue'), green: fallbackFor('green') };
  let weight = validateWeight(options.initialWeight ?? 0);
  let version = options.initialVersion ?? 0;
  let updatedAt = now();
  let phase = options.initialPhase ?? null;
  let control: RolloutControl | null = null;
  let closing = false;
  // Changes through the store run one at a time: each one saves the state it is about to
  // apply, computed after the previous change, so versions never repeat or go back.
  let queue: Promise<unknown> = Promise.resolve();
  function saveThenApply<T>(next: () => PersistedRouterState, apply: (saved: PersistedRouterState) => T): Promise<T> {
    const run = queue.then(async () => {
      const state = next();
      await options.stateStore?.save(state);
      return apply(state);
    });
    queue = run.catch(() => undefined);
    return run;
  }

  function readState(): RouterState {
    return {
      greenWeight: weight,
      version,
      updatedAt,
      phase,
      colors: { blue: colorState(pools.blue), green: colorState(pools.green) },
    };
  }

  const router: Router = {
    metrics,
    listen: (port, host) => listenOn(server, port, host),
    listenAdmin: (port, host) => listenOn(adminServer, port, host),
    async close() {
      closing = true;
      // Busy keep-alive connections get `Connection: close` on their next answer; whatever is
      // still open after the grace period is cut.
      const grace = setTimeout(() => {
        server.closeAllConnections();
        adminServer.closeAllConnections();
      }, options.closeGraceMs ?? 5_000);
      await Promise.all([closeServer(server), closeServer(adminServer)]);
      clearTimeout(grace);
      await stopHealthChecks();
      await Promise.all([pools.blue.close(), pools.green.close()]);
    },
    setWeight(next) {
      weight = validateWeight(next);
      version++;
      updatedAt = now();
      return readState();
    },
    saveWeight(next) {
      const target = validateWeight(next);
      return saveThenApply(
        () => ({ greenWeight: target, version: version + 1, updatedAt: now(), phase }),
        (saved) => {
          weight = saved.greenWeight;
          version = saved.version;
          updatedAt = saved.updatedAt;
          const state = readState();
          options.onStateChange?.(state, 'weight');
          return state;
        },
      );
    },
    savePhase(next) {
      return saveThenApply(
        () => ({ greenWeight: weight, version, updatedAt, phase: next }),
        (saved) => {
          phase = saved.phase;
          const state = readState();
          options.onStateChange?.(state, 'phase');
          return state;
        },
      );
    },
    readState,
    readStats(windowMs) {
      const at = now();
      return { at, windowMs, greenWeight: weight, blue: pools.blue.summarize(at, windowMs), green: pools.green.summarize(at, windowMs) };
    },
    waitForDrain(color, timeoutMs) {
      return pools[color].waitForDrain(timeoutMs);
    },
    setControl(next) {
      control = next;
    },
  };

  // The admin API has its own listener: the traffic port faces every client, and
  // behind a local reverse proxy every one of them would look like loopback.
  const adminServer: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (closing) res.setHeader('connection', 'close');
    void handleAdmin(req, res, { router, adminToken: options.adminToken, control: () => control });
  });
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (closing) res.setHeader('connection', 'close');
    const weightNow = weight;
    const sticky = extractStickyKey(req.headers, stickySecret);
    let key = sticky?.key;
    let setCookie: string | null = null;
    if (!key) {
      // A new client, or a cookie this router did not sign: a fresh random id, which the
      // client can keep but not choose.
      const id = createStickyId();
      key = `cookie:${id}`;
      setCookie = `${STICKY_COOKIE}=${signStickyId(id, stickySecret)}; Path=/; HttpOnly; SameSite=Lax`;
    }
    const preferred = chooseColor(hashToBucket(key), weightNow);
    // An ejected color's share goes to the other one; the cookie is untouched, so the client
    // is back on its own color once that recovers.
    const color = healthCheck ? routeColor(preferred, { blue: pools.blue.routable, green: pools.green.routable }) : preferred;
    void forwardRequest(req, res, { color, pool: pools[color], now, setCookie, fallback: fallbacks[color], passiveEjection: Boolean(healthCheck), events: metrics });
  });
  server.keepAliveTimeout = 5_000;

  return router;
}

function colorState(pool: ColorPool): ColorState {
  return { upstreams: pool.upstreams, inflight: pool.inflight, health: pool.health, instances: pool.upstreamHealth };
}

async function listenOn(server: Server, port: number, host: string): Promise<{ url: string; port: number }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return { url: `http://${shownHost}:${address.port}`, port: address.port };
}

function closeServer(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

function validateWeight(weight: number): number {
  if (!Number.isFinite(weight) || weight < 0 || weight > 100) throw new RangeError(`green weight must be within 0..100, got ${weight}`);
  return weight;
}
