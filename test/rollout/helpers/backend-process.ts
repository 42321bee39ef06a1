import { spawn, type ChildProcess } from 'node:child_process';

/** One color as its own process (a fixture): answers 200 `{color}` to everything, `POST /echo` echoes. */
export interface BackendProcess {
  readonly url: string;
  readonly child: ChildProcess;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const SCRIPT = `
const http = require('node:http');
const color = process.argv[1];
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ color, path: req.url, body: Buffer.concat(chunks).toString('utf8') }));
  });
});
server.keepAliveTimeout = 60000;
server.listen(Number(process.argv[2]), '127.0.0.1', () => console.log('port ' + server.address().port));
`;

/** Starts the process and waits (bounded) until it listens; `port` 0 picks a free one. */
export async function startBackendProcess(color: string, port = 0, timeoutMs = 15_000): Promise<BackendProcess> {
  const child = spawn(process.execPath, ['-e', SCRIPT, color, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const actual = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${color} backend did not listen within ${timeoutMs} ms`));
    }, timeoutMs);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      const match = /port (\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${color} backend exited before listening`));
    });
  });
  return {
    url: `http://127.0.0.1:${actual}`,
    child,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
