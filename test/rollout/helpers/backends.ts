import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A tiny stand-in for one Boka color on 127.0.0.1 (a fixture, not the code under test).
 * `GET /fail` answers 500, `GET /hold` waits until `release()`, `POST /echo` echoes the body;
 * everything else answers 200 with `{color}`. `handler` overrides all of that.
 */
export interface Backend {
  readonly url: string;
  readonly color: string;
  hits: number;
  held: number;
  release(): void;
  close(): Promise<void>;
}

export async function startBackend(
  color: string,
  handler?: (req: IncomingMessage, res: ServerResponse, backend: Backend) => unknown,
): Promise<Backend> {
  let releases: (() => void)[] = [];
  const backend: Backend = {
    url: '',
    color,
    hits: 0,
    held: 0,
    release() {
      const pending = releases;
      releases = [];
      for (const r of pending) r();
    },
    close: async () => undefined,
  };
  const server: Server = createServer((req, res) => {
    backend.hits++;
    if (handler) {
      void handler(req, res, backend);
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/fail') {
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ color, error: 'boom' }));
    } else if (path === '/hold') {
      backend.held++;
      releases.push(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ color, held: true })));
    } else if (path === '/echo') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ color, body: Buffer.concat(chunks).toString('utf8'), host: req.headers.host })));
    } else {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ color, path }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  Object.assign(backend, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        backend.release();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
  return backend;
}

/** Builds an unsigned JWT-shaped token carrying `sid` (the router never verifies, Boka does). */
export function buildToken(sid: string): string {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'none' })}.${enc({ sub: `user-${sid}`, sid })}.sig`;
}
