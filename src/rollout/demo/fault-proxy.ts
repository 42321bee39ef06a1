import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fault-injecting HTTP proxy for demos and end-to-end tests (never on a production path): it
 * sits in front of one Boka instance and, once armed, answers a share of requests with 500
 * (without forwarding them) and/or delays every response. Injected 500s carry
 * `x-boka-fault: error` so a client can tell an injected failure from a real one.
 *
 * The operational routes (`/api/health*`, `/metrics`) pass untouched: the fault is a bug in
 * the release's API, not in its probes, and preflight must still see a deployable green.
 */
export interface FaultOptions {
  /** Share of API requests answered 500, 0…1; spread evenly (every 1/rate-th request), not random. */
  readonly errorRate?: number;
  /** Added before forwarding each API request. */
  readonly delayMs?: number;
}

export interface FaultProxy {
  readonly url: string;
  readonly injected: { errors: number; delayed: number; forwarded: number };
  /** Starts (or changes) the fault; the proxy forwards everything untouched until then. */
  arm(options: FaultOptions): void;
  disarm(): void;
  close(): Promise<void>;
}

export const FAULT_HEADER = 'x-boka-fault';

function isOperational(path: string): boolean {
  return path === '/metrics' || path === '/api/health' || path.startsWith('/api/health/');
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  let fault: FaultOptions | null = null;
  let errorCredit = 0;
  const injected = { errors: 0, delayed: 0, forwarded: 0 };

  const forward = (req: IncomingMessage, res: ServerResponse) => {
    injected.forwarded++;
    const out = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    out.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'service_unavailable', code: 'service_unavailable', message: 'fault proxy: green did not answer', requestId: 'fault-proxy', timestamp: new Date().toISOString() }));
    });
    req.pipe(out);
  };

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const active = fault && !isOperational(path) ? fault : null;
    if (active?.errorRate) {
      // Deterministic spreading: a 5 % rate fails exactly every 20th API request.
      errorCredit += active.errorRate;
      if (errorCredit >= 1) {
        errorCredit -= 1;
        injected.errors++;
        req.resume();
        res.writeHead(500, { 'content-type': 'application/json', [FAULT_HEADER]: 'error' });
        res.end(JSON.stringify({ error: 'Internal Server Error', code: 'internal_error', message: 'injected fault' }));
        return;
      }
    }
    if (active?.delayMs) {
      injected.delayed++;
      req.pause();
      setTimeout(() => forward(req, res), active.delayMs);
      return;
    }
    forward(req, res);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    injected,
    arm(options) {
      fault = options;
    },
    disarm() {
      fault = null;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
