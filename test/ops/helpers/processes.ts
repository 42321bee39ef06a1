import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const live = new Set<ChildProcess>();

// Whatever happens to the test (failure, timeout, uncaught error), no child outlives it.
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface BokaProcess {
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  readonly logs: string[];
  /** Resolves with the exit code once the process has ended. */
  readonly exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): void;
}

export interface SpawnOptions {
  /** What to run instead of `node --import tsx src/main.ts`, e.g. `['npm', 'start']`. */
  command?: readonly [string, ...string[]];
}

/**
 * Starts `node --import tsx src/main.ts` (or `opts.command`) on a free loopback port and
 * resolves once it listens. Every process started here is SIGKILLed by `killAll` (call it in
 * `after`) or at exit.
 */
export async function spawnBoka(env: Record<string, string>, timeoutMs = 60_000, opts: SpawnOptions = {}): Promise<BokaProcess> {
  const [file, ...args] = opts.command ?? [process.execPath, '--import', 'tsx', 'src/main.ts'];
  const child = spawn(file, args, {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  const exited = once(child, 'exit').then(([code]) => {
    live.delete(child);
    return code as number | null;
  });
  const logs: string[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`boka did not start within ${timeoutMs} ms:\n${logs.join('\n')}`)), timeoutMs);
    const onLine = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        logs.push(line);
        const m = /Server listening at http:\/\/127\.0\.0\.1:(\d+)/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      }
    };
    child.stdout!.on('data', onLine);
    child.stderr!.on('data', onLine);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`boka exited with ${code} before listening:\n${logs.join('\n')}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    logs,
    exited,
    kill: (signal = 'SIGTERM') => {
      child.kill(signal);
    },
  };
}

/** Waits until the process has logged a line containing `text` (bounded by `ms`, then fails). */
export async function waitForLog(p: BokaProcess, text: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!p.logs.some((l) => l.includes(text))) {
    if (Date.now() > deadline) throw new Error(`no log line with ${text} within ${ms} ms:\n${p.logs.slice(-5).join('\n')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function killAll(): Promise<void> {
  const waits = [...live].map((child) => {
    child.kill('SIGKILL');
    return once(child, 'exit');
  });
  await Promise.all(waits);
}
