import { pino, type Logger } from 'pino';
import { ConfigError, readSecret } from '../../config/config.js';
import { createRouter, type RouterOptions } from './router.js';
import { parseFlags, parseListen } from '../cli-args.js';
import { createStateFileStore, readStateFile, StateFileError } from './state-file.js';

const USAGE = `usage:
  boka router serve --blue <url...> --green <url...> [--listen 0.0.0.0:8080] [--admin-listen 127.0.0.1:8081]
                    [--state-file /var/lib/boka-router/state.json] [--initial-weight 0]
                    [--health-path /api/health/ready] [--health-interval-ms 250] [--health-timeout-ms 750]
                    [--upstream-timeout-ms 30000] [--shutdown-timeout-ms 10000]
  secrets (from the environment, or a file named by <NAME>_FILE):
    BOKA_ROUTER_ADMIN_TOKEN     bearer token of the admin API and /metrics (without it: loopback callers only)
    BOKA_ROUTER_STICKY_SECRET   32+ bytes, base64url: signs the sticky cookie (without it: random per start)`;

const KNOWN = new Set([
  'blue', 'green', 'listen', 'admin-listen', 'state-file', 'initial-weight',
  'health-path', 'health-interval-ms', 'health-timeout-ms', 'upstream-timeout-ms', 'shutdown-timeout-ms',
]);

export interface ServeSettings {
  readonly blue: readonly string[];
  readonly green: readonly string[];
  readonly listen: { host: string; port: number };
  readonly adminListen: { host: string; port: number };
  readonly stateFile: string | undefined;
  readonly initialWeight: number;
  readonly healthPath: string;
  readonly healthIntervalMs: number;
  readonly healthTimeoutMs: number;
  readonly upstreamTimeoutMs: number;
  readonly shutdownTimeoutMs: number;
  readonly adminToken: string | undefined;
  readonly stickySecret: Buffer | undefined;
}

/** Validates the command line and the secrets once; throws ConfigError naming the bad setting. */
export function readServeSettings(argv: readonly string[], env: Record<string, string | undefined>): ServeSettings {
  const { flags, positional } = parseFlags(argv);
  if (positional.length > 0) throw new ConfigError(`unexpected argument ${positional[0]}`);
  for (const name of Object.keys(flags)) if (!KNOWN.has(name)) throw new ConfigError(`unknown option --${name}`);
  const one = (name: string): string | undefined => flags[name]?.[0];
  const urls = (name: 'blue' | 'green'): string[] => {
    const list = flags[name] ?? [];
    if (list.length === 0) throw new ConfigError(`--${name} needs at least one URL`);
    for (const u of list) {
      let parsed: URL;
      try {
        parsed = new URL(u);
      } catch {
        throw new ConfigError(`--${name}: ${u} is not a URL`);
      }
      if (parsed.protocol !== 'http:') throw new ConfigError(`--${name}: ${u} must be http:// (the router talks plain HTTP to its upstreams)`);
    }
    return list;
  };
  const listenOf = (name: string, fallback: string) => {
    const parsed = parseListen(one(name) ?? fallback);
    if (!parsed) throw new ConfigError(`--${name} must look like ${fallback}`);
    return parsed;
  };
  const number = (name: string, fallback: number, min: number, max: number): number => {
    const raw = one(name);
    const value = raw === undefined ? fallback : Number(raw);
    if (!Number.isFinite(value) || value < min || value > max) throw new ConfigError(`--${name} must be a number from ${min} to ${max}`);
    return value;
  };
  const healthPath = one('health-path') ?? '/api/health/ready';
  if (!healthPath.startsWith('/')) throw new ConfigError('--health-path must start with /');
  const rawSecret = readSecret(env, 'BOKA_ROUTER_STICKY_SECRET');
  const stickySecret = rawSecret === undefined ? undefined : Buffer.from(rawSecret, 'base64url');
  if (stickySecret && stickySecret.length < 32) throw new ConfigError('BOKA_ROUTER_STICKY_SECRET must be at least 32 bytes, base64url');
  return {
    blue: urls('blue'),
    green: urls('green'),
    listen: listenOf('listen', '0.0.0.0:8080'),
    adminListen: listenOf('admin-listen', '127.0.0.1:8081'),
    stateFile: one('state-file'),
    initialWeight: number('initial-weight', 0, 0, 100),
    healthPath,
    healthIntervalMs: number('health-interval-ms', 250, 50, 60_000),
    healthTimeoutMs: number('health-timeout-ms', 750, 50, 60_000),
    upstreamTimeoutMs: number('upstream-timeout-ms', 30_000, 100, 600_000),
    shutdownTimeoutMs: number('shutdown-timeout-ms', 10_000, 0, 600_000),
    adminToken: readSecret(env, 'BOKA_ROUTER_ADMIN_TOKEN'),
    stickySecret,
  };
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * `boka router serve`: the front door as its own long-lived process. It keeps serving whatever
 * a controller does (or whether one runs at all); the weight and phase it was last given are in
 * the state file, so a restart resumes them. SIGTERM/SIGINT: stop accepting, finish in-flight
 * requests (cut after --shutdown-timeout-ms), exit 0.
 */
export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'serve') {
    process.stderr.write(`${USAGE}\n`);
    return sub === undefined || sub === 'help' || sub === '--help' ? 0 : 2;
  }
  let settings: ServeSettings;
  try {
    settings = readServeSettings(rest, process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n${USAGE}\n`);
    return 2;
  }
  const log = pino({ base: { service: 'boka-router' } });
  try {
    return await serve(settings, log);
  } catch (error) {
    if (!(error instanceof StateFileError)) throw error;
    log.error({ err: error.message }, 'cannot start: the state file is unusable; fix or remove it (removing it starts at --initial-weight)');
    return 2;
  }
}

async function serve(settings: ServeSettings, log: Logger): Promise<number> {
  let restored = settings.stateFile ? await readStateFile(settings.stateFile) : null;
  const store = settings.stateFile ? createStateFileStore(settings.stateFile) : undefined;
  if (store && !restored) {
    // Written at once, so a state file that cannot be written fails the start, not the first change.
    restored = { greenWeight: settings.initialWeight, version: 0, updatedAt: Date.now(), phase: null };
    try {
      await store.save(restored);
    } catch (error) {
      throw new StateFileError(`${settings.stateFile}: cannot write (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
  }
  if (!settings.stateFile) log.warn('no --state-file: the weight is not saved and a restart starts at --initial-weight');
  if (!settings.stickySecret) log.warn('no BOKA_ROUTER_STICKY_SECRET: sticky cookies are signed with a random key, so clients are re-assigned when the router restarts');
  if (!LOOPBACK.has(settings.adminListen.host) && !settings.adminToken) {
    log.warn({ adminListen: settings.adminListen.host }, 'admin API on a non-loopback address without BOKA_ROUTER_ADMIN_TOKEN: it only answers loopback callers');
  }
  const options: RouterOptions = {
    blue: settings.blue,
    green: settings.green,
    initialWeight: restored?.greenWeight ?? settings.initialWeight,
    initialVersion: restored?.version ?? 0,
    initialPhase: restored?.phase ?? null,
    stateStore: store,
    adminToken: settings.adminToken,
    stickySecret: settings.stickySecret,
    upstreamTimeoutMs: settings.upstreamTimeoutMs,
    closeGraceMs: settings.shutdownTimeoutMs,
    healthCheck: { path: settings.healthPath, intervalMs: settings.healthIntervalMs, timeoutMs: settings.healthTimeoutMs },
    onStateChange(state, changed) {
      log.info({ greenWeight: state.greenWeight, version: state.version, phase: state.phase }, changed === 'weight' ? 'weight set' : 'phase set');
    },
    onHealthChange(color, url, next, previous) {
      const fields = { color, upstream: url, from: previous.status, to: next.status, detail: next.detail };
      if (next.status === 'unhealthy') log.warn(fields, 'upstream ejected');
      else log.info(fields, 'upstream healthy');
    },
  };
  const router = createRouter(options);
  const traffic = await router.listen(settings.listen.port, settings.listen.host);
  const admin = await router.listenAdmin(settings.adminListen.port, settings.adminListen.host);
  const state = router.readState();
  log.info({ traffic: traffic.url, admin: admin.url, greenWeight: state.greenWeight, version: state.version, phase: state.phase, stateFile: settings.stateFile ?? null }, 'router serving');

  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.info({ signal }, 'already stopping; in-flight requests are finishing');
        return;
      }
      stopping = true;
      log.info({ signal, graceMs: settings.shutdownTimeoutMs }, 'stopping: no new connections, finishing in-flight requests');
      router.close().then(resolve, (error: unknown) => {
        log.error({ err: error instanceof Error ? error.message : String(error) }, 'error while closing');
        resolve();
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  log.info('router stopped');
  return 0;
}
