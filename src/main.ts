import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { createRedisBus } from './cache/redis-bus.js';
import { loadConfig, type Config } from './config/config.js';
import { openDatabase, readMigrationStatus } from './db/index.js';
import { closeLogDestination, createLogDestination, createOps } from './ops/index.js';
import { startInstanceRegistration, type InstanceRegistration } from './ops/instance-registry.service.js';
import { startMetricsServer } from './ops/metrics.routes.js';

/** Bounds a registration still under way at the signal plus the delete of its row. */
const DEREGISTER_TIMEOUT_MS = 5_000;
/** How long the exit waits for a slow log reader to take the buffered lines. */
const LOG_CLOSE_TIMEOUT_MS = 2_000;

/**
 * Reads config, opens the database (applying pending `expand` migrations: ADR 0010), connects the
 * cache bus (Redis when REDIS_URL is set), listens, registers in the instance registry, and drains
 * on SIGTERM/SIGINT:
 *  1. readiness answers 503 at once and every response carries `Connection: close`;
 *  2. after SHUTDOWN_DELAY_MS (time for a load balancer to notice), the listener closes, idle
 *     keep-alive connections are closed, in-flight requests finish;
 *  3. the bus closes, the registry row is deleted, the pool closes, buffered log lines are
 *     written out. Past SHUTDOWN_TIMEOUT_MS remaining connections are cut.
 */
async function main(): Promise<void> {
  // A log collector that went away closes our stdout: writes fail with EPIPE. Logging is lost,
  // serving and draining are not (pino's own destination already drops EPIPE the same way).
  for (const stream of [process.stdout, process.stderr]) stream.on('error', ignoreBrokenPipe);
  const config = loadConfig();
  const ops = createOps(config);
  // Asynchronous and bounded: a slow stdout reader costs log lines, never requests (ADR 0027).
  const logStream = createLogDestination({ onDrop: () => ops.metrics.countLogDrop() });
  const db = await openDatabase(config);
  let logBusError = (err: unknown) => console.error('cache bus:', err instanceof Error ? err.message : err);
  const bus = config.redisUrl
    ? createRedisBus({ url: config.redisUrl, channel: config.ops.cacheBusChannel, onError: (err) => logBusError(err) })
    : undefined;
  const busReady = bus ? await bus.waitUntilReady(5_000) : true;
  const app = await buildApp(config, { db, bus, ops, logStream });
  // Redis keeps retrying; log each kind of failure at most every 10 s instead of per attempt.
  let lastBusLog = 0;
  logBusError = (err) => {
    if (Date.now() - lastBusLog < 10_000) return;
    lastBusLog = Date.now();
    app.log.warn({ err }, 'cache bus error; caches fall back to TTL expiry until it reconnects');
  };
  if (!busReady) app.log.warn('cache bus not connected at startup; starting degraded');

  const metricsServer =
    config.ops.metricsPort === undefined
      ? null
      : await startMetricsServer(ops.metrics, { host: config.host, port: config.ops.metricsPort, token: config.ops.metricsToken });

  let closing = false;
  // Set once listening. A signal can arrive while it is still registering: the drain waits for it
  // (bounded), so the row it writes is the row it deletes, and the pool is not closed under it.
  let registering: Promise<InstanceRegistration | undefined> = Promise.resolve(undefined);
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    ops.drain.start();
    app.log.info({ signal, delayMs: config.ops.shutdownDelayMs, timeoutMs: config.ops.shutdownTimeoutMs }, 'draining');
    const timer = setTimeout(() => {
      app.log.error('shutdown timed out; cutting remaining connections');
      app.server.closeAllConnections();
      process.exit(1);
    }, config.ops.shutdownTimeoutMs);
    timer.unref();
    try {
      if (config.ops.shutdownDelayMs > 0) await sleep(config.ops.shutdownDelayMs);
      // Fastify: stop listening, close idle keep-alive sockets, wait for in-flight requests,
      // then run onClose hooks (the cache bus).
      await app.close();
      await metricsServer?.close();
      // Bounded: an unreachable database must not hold the exit; the row then goes stale by itself.
      await Promise.race([
        registering.then((registration) => registration?.stop()).catch((err: unknown) => app.log.warn({ err }, 'instance deregistration failed')),
        sleep(DEREGISTER_TIMEOUT_MS, undefined, { ref: false }),
      ]);
      await db.close();
      app.log.info('shutdown complete');
      await closeLogDestination(logStream, LOG_CLOSE_TIMEOUT_MS);
      process.exit(0);
    } catch (err) {
      app.log.error({ err }, 'shutdown failed');
      await closeLogDestination(logStream, LOG_CLOSE_TIMEOUT_MS);
      process.exit(1);
    }
  };
  // `on`, not `once`: with `once` a second signal (an impatient operator, a supervisor that
  // re-sends) would hit Node's default handler and kill the process mid-drain.
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) {
      app.log.info({ signal }, 'already draining; signal ignored');
      return;
    }
    void shutdown(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // Node's default accept backlog is 511. When more clients connect at once (a load balancer's
  // pool opening, or 1 000 benchmark connections), the kernel drops the rest of the SYNs and
  // they retry after 1, 3, 7 s: seconds of latency that look like a slow server. The kernel
  // caps the value at net.core.somaxconn.
  await app.listen({ host: config.host, port: config.port, backlog: 4096 });
  if (metricsServer) app.log.info({ port: metricsServer.port }, 'metrics listening');
  // Registered once serving: `boka db migrate` refuses a contract migration this build predates
  // while this row is alive (ADR 0010). Deregistered in shutdown, after in-flight requests finish.
  registering = readMigrationStatus(db).then((status) =>
    startInstanceRegistration(db, {
      version: config.version,
      schemaLevel: status.latest,
      heartbeatSeconds: config.ops.instanceHeartbeatSeconds,
      staleAfterBeats: config.ops.instanceStaleAfterBeats,
      onError: (err) => app.log.warn({ err }, 'instance registry heartbeat failed'),
    }),
  );
  // A registration cut short by a drain is the drain's business (it logs it), not a failed start.
  await registering.catch((err: unknown) => {
    if (!closing) throw err;
  });
  if (!closing) logReady(app, config);
}

/** One line an operator can act on: where the API and its docs are, which database, which key. */
function logReady(app: FastifyInstance, config: Config): void {
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  const origin = config.secretKeyOrigin;
  const secretKey =
    origin.source === 'generated'
      ? `${origin.created ? 'generated into' : 'read from'} ${origin.path}`
      : origin.source === 'ephemeral'
        ? 'random, in memory (signing keys die with the process)'
        : `from ${origin.source}`;
  app.log.info(
    { url, docs: `${url}/docs`, database: describeDatabase(config), secretKey, pid: process.pid },
    `Boka ${config.version} ready at ${url}, API docs at ${url}/docs`,
  );
}

function describeDatabase(config: Config): string {
  if (config.databaseUrl) {
    // Never the credentials: host, port and database name only.
    const u = new URL(config.databaseUrl);
    return `PostgreSQL ${u.hostname}:${u.port || 5432}${u.pathname}`;
  }
  return config.dataDir === 'memory' ? 'PGlite (embedded), in memory' : `PGlite (embedded) in ${resolve(config.dataDir)}`;
}

function ignoreBrokenPipe(err: NodeJS.ErrnoException): void {
  if (err.code !== 'EPIPE') throw err;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
