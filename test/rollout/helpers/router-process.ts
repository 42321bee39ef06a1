import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../../src/cli/index.ts', import.meta.url));

/** A `boka router serve` child process, with the addresses it logged at start. */
export interface RouterProcess {
  readonly child: ChildProcess;
  readonly trafficUrl: string;
  readonly adminUrl: string;
  /** Every log line so far (JSON lines on stdout, text on stderr). */
  readonly output: () => string;
  /** Resolves with the exit code (or the signal's name) once the process is gone. */
  readonly exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

/**
 * Starts `boka <args>` through the real CLI entry point and waits (bounded) for the
 * "router serving" line, which carries the ports chosen for `:0`.
 */
export async function startRouterProcess(args: readonly string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<RouterProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'router', 'serve', ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const started = await new Promise<{ traffic: string; admin: string }>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`router did not start within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = () => {
      for (const line of out.split('\n')) {
        if (!line.includes('"router serving"')) continue;
        const parsed = JSON.parse(line) as { traffic: string; admin: string };
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve(parsed);
        return;
      }
    };
    child.stdout?.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`router exited (${code}) before serving:\n${out}`));
    });
  });
  return {
    child,
    trafficUrl: started.traffic,
    adminUrl: started.admin,
    output: () => out,
    exited,
    stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
