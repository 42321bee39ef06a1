import type { FastifyInstance } from 'fastify';
import { healthRoutes, type HealthRouteDeps } from './health.routes.js';
import { metricsRoutes } from './metrics.routes.js';

/**
 * Wires operations into the root app: HTTP metrics for every route (labelled by route pattern,
 * never the raw URL, so cardinality stays bounded), `Connection: close` while draining, and
 * the health and metrics routes.
 */
export async function installOps(app: FastifyInstance, services: HealthRouteDeps): Promise<void> {
  const { metrics, drain } = services.ops;
  app.addHook('onResponse', async (request, reply) => {
    metrics.observeHttp(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });
  app.addHook('onSend', async (_request, reply) => {
    // RFC 9112 §9.6: tells keep-alive clients to open their next connection elsewhere.
    if (drain.draining) void reply.header('connection', 'close');
  });
  await app.register(healthRoutes, { services });
  if (services.config.ops.metricsPort === undefined) await app.register(metricsRoutes, { metrics });
}
