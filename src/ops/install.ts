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
  // Synchronous hooks: they run on every request (issue 16).
  app.addHook('onResponse', (request, reply, done) => {
    metrics.observeHttp(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    // RFC 9112 §9.6: tells keep-alive clients to open their next connection elsewhere.
    if (drain.draining) void reply.header('connection', 'close');
    done(null, payload);
  });
  await app.register(healthRoutes, { services });
  if (services.config.ops.metricsPort === undefined) await app.register(metricsRoutes, { metrics });
}
