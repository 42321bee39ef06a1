import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

/** Repository root (this file is src/rollout/demo/). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const WATCHDOG = fileURLToPath(new URL('./parent-watchdog.ts', import.meta.url));

export interface BokaInstance {
  readonly version: string;
  readonly url: string;
  readonly child: ChildProcess;
  /** The last lines of its stderr/stdout, for failure messages. */
  tail(): string;
}

export interface InstanceOptions {
  readonly version: string;
  readonly databaseUrl: string;
  readonly poolMax: number;
  readonly preparedStatements: boolean;
  readonly secretKey: string;
  readonly extraEnv?: Readonly<Record<string, string>>;
  readonly readyTimeoutMs?: number;
}

/**
 * Every child process the demo or a test started, killed together on close, on `exit`, and
 * (when installed) on SIGINT/SIGTERM, so nothing outlives the run even when it fails.
 */
export class ChildGroup {
  private readonly children = new Set<ChildProcess>();
  private readonly onExit = () => {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };

  constructor() {
    process.once('exit', this.onExit);
  }

  add(child: ChildProcess): ChildProcess {
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** SIGTERM (Boka drains), then SIGKILL whatever is left after `graceMs`. */
  async close(graceMs = 3_000): Promise<void> {
    const alive = [...this.children].filter((c) => c.exitCode === null && c.signalCode === null);
    await Promise.all(
      alive.map(
        (c) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => c.kill('SIGKILL'), graceMs);
            c.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            c.kill('SIGTERM');
          }),
      ),
    );
    process.off('exit', this.onExit);
  }
}

/** A free loopback port (the tiny race with another process is acceptable for a demo/test). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `url` until it answers 200 or the deadline passes. */
export async function waitForOk(url: string, timeoutMs: number, isDead: () => boolean = () => false): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (isDead()) throw new Error(`process exited before ${url} answered`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await sleep(200);
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms (${last})`);
}

/**
 * Starts one Boka instance from this checkout (`node --import tsx src/main.ts`) on a free
 * loopback port and waits for `/api/health/ready`.
 */
export async function startBokaInstance(group: ChildGroup, options: InstanceOptions): Promise<BokaInstance> {
  const port = await freePort();
  const child = group.add(
    spawn(process.execPath, ['--import', 'tsx', '--import', WATCHDOG, 'src/main.ts'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        NODE_ENV: 'development',
        HOST: '127.0.0.1',
        PORT: String(port),
        BOKA_VERSION: options.version,
        BOKA_SECRET_KEY: options.secretKey,
        DATABASE_URL: options.databaseUrl,
        DATABASE_POOL_MAX: String(options.poolMax),
        DATABASE_PREPARED_STATEMENTS: options.preparedStatements ? 'on' : 'off',
        LOG_LEVEL: 'warn',
        RATE_LIMIT_PER_PRINCIPAL_PER_MINUTE: '1000000',
        RATE_LIMIT_AUTH_FAILURES_PER_IP: '1000000',
        DEEP_HEALTH_PER_MINUTE: '600',
        // Under a busy CI machine the deep check's own latency budget is not what we test.
        DEEP_HEALTH_BUDGET_MS: '5000',
        REDIS_URL: '',
        BOKA_WATCH_PARENT_PID: String(process.pid),
        ...options.extraEnv,
      },
    }),
  );
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (lines.length > 40) lines.splice(0, lines.length - 40);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const tail = () => lines.join('\n');
  try {
    await waitForOk(`${url}/api/health/ready`, options.readyTimeoutMs ?? 60_000, () => child.exitCode !== null);
  } catch (error) {
    throw new Error(`${options.version}: ${error instanceof Error ? error.message : String(error)}\n${tail()}`);
  }
  return { version: options.version, url, child, tail };
}
