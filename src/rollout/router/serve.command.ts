import { pino, type Logger } from 'pino';
import { ConfigError, readSecret } from '../../config/config.js';
import { createRouter, type RouterOptions } from './router.js';
import { parseListen } from '../cli-args.js';
import { createStateFileStore, readStateFile, StateFileError } from './state-file.js';

/** Values of `boka router serve` (the option table, with defaults and bounds, is src/cli/commands.ts). */
export interface ServeValues {
  blue: string[];
  green: string[];
  listen: string;
  'admin-listen': string;
  'state-file': string | undefined;
  'initial-weight': number;
  'health-path': string;
  'health-interval-ms': number;
  'health-timeout-ms': number;
  'upstream-timeout-ms': number;
  'shutdown-timeout-ms': number;
}

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

/** Validates the upstreams and the secrets once; throws ConfigError naming the bad setting. */
export function readServeSettings(values: ServeValues, env: Record<string, string | undefined>): ServeSettings {
  const urls = (name: 'blue' | 'green'): string[] => {
    const list = values[name];
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
  const listenOf = (name: 'listen' | 'admin-listen') => {
    const parsed = parseListen(values[name]);
    if (!parsed) throw new ConfigError(`--${name} must look like host:port`);
    return parsed;
  };
  if (!values['health-path'].startsWith('/')) throw new ConfigError('--health-path must start with /');
  const rawSecret = readSecret(env, 'BOKA_ROUTER_STICKY_SECRET');
  const stickySecret = rawSecret === undefined ? undefined : Buffer.from(rawSecret, 'base64url');
  if (stickySecret && stickySecret.length < 32) throw new ConfigError('BOKA_ROUTER_STICKY_SECRET must be at least 32 bytes, base64url');
  return {
    blue: urls('blue'),
    green: urls('green'),
    listen: listenOf('listen'),
    adminListen: listenOf('admin-listen'),
    stateFile: values['state-file'],
    initialWeight: values['initial-weight'],
    healthPath: values['health-path'],
    healthIntervalMs: values['health-interval-ms'],
    healthTimeoutMs: values['health-timeout-ms'],
    upstreamTimeoutMs: values['upstream-timeout-ms'],
    shutdownTimeoutMs: values['shutdown-timeout-ms'],
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
export async function runServe(values: ServeValues): Promise<number> {
  let settings: ServeSettings;
  try {
    settings = readServeSettings(values, process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`boka router serve: ${error.message}\nsee 'boka router serve --help'\n`);
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
