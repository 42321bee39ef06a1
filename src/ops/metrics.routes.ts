import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppServices } from '../app-services.js';
import { PUBLIC } from '../http/access.js';
import { AppError } from '../http/app-error.js';
import type { Metrics } from './metrics.js';

function bearerMatches(header: string | undefined, token: string): boolean {
  const match = typeof header === 'string' ? /^Bearer +(\S+)$/i.exec(header) : null;
  if (!match?.[1]) return false;
  const a = createHash('sha256').update(match[1]).digest();
  return timingSafeEqual(a, createHash('sha256').update(token).digest());
}

/** `GET /metrics` on the API port (when METRICS_PORT is not set); bearer METRICS_TOKEN if configured. */
export const metricsRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  const { metrics } = services.ops;
  const token = services.config.ops.metricsToken;
  app.get('/metrics', {
    config: { access: PUBLIC },
    schema: { tags: ['health'], hide: true },
  }, async (request, reply) => {
    if (token !== undefined && !bearerMatches(request.headers.authorization, token)) {
      throw new AppError('forbidden', 'The metrics endpoint needs the metrics token');
    }
    return reply.type(metrics.contentType).send(await metrics.exposition());
  });
};

/**
 * A separate listener for METRICS_PORT, so the exposition can stay on an internal interface
 * while the API port faces clients. Answers `GET /metrics` only.
 */
export async function startMetricsServer(
  metrics: Metrics,
  opts: { host: string; port: number; token: string | undefined },
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (opts.token !== undefined && !bearerMatches(req.headers.authorization, opts.token)) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('forbidden\n');
      return;
    }
    metrics.exposition().then(
      (body) => res.writeHead(200, { 'content-type': metrics.contentType }).end(body),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('error\n'),
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
