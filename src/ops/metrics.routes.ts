import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyPluginAsync } from 'fastify';
import { operator, parseBearer, secretsEqual } from '../access/index.js';
import { buildErrorBody, ERROR_CATALOGUE, type ErrorCode } from '../errors/index.js';
import type { Metrics } from './metrics.js';

/**
 * `GET /metrics` on the API port (when METRICS_PORT is not set). Its operator policy asks for
 * METRICS_TOKEN when set, and otherwise answers callers on this machine only.
 */
export const metricsRoutes: FastifyPluginAsync<{ metrics: Metrics }> = async (app, { metrics }) => {
  app.get('/metrics', {
    config: { access: operator('metrics'), rateLimit: 'exempt' },
    schema: { tags: ['health'], hide: true },
  }, async (_request, reply) => reply.type(metrics.contentType).send(await metrics.exposition()));
};

function sendError(res: ServerResponse, code: ErrorCode, message?: string): void {
  res.writeHead(ERROR_CATALOGUE[code].status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(buildErrorBody(code, { message })));
}

/**
 * A separate listener for METRICS_PORT, so the exposition can stay on an internal interface
 * while the API port faces clients. Answers `GET /metrics` only. Reaching this port is the
 * operator's choice of network, so without METRICS_TOKEN it answers whoever can connect.
 */
export async function startMetricsServer(
  metrics: Metrics,
  opts: { host: string; port: number; token: string | undefined },
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') return sendError(res, 'not_found');
    if (opts.token !== undefined) {
      const presented = parseBearer(req.headers.authorization);
      if (presented === null || !secretsEqual(presented, opts.token)) return sendError(res, 'forbidden', 'The metrics endpoint needs METRICS_TOKEN');
    }
    metrics.exposition().then(
      (body) => res.writeHead(200, { 'content-type': metrics.contentType }).end(body),
      () => sendError(res, 'internal_server_error'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
