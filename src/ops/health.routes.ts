import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@fastify/type-provider-typebox';
import type { AppServices } from '../app-services.js';
import { PUBLIC } from '../http/access.js';

/** Liveness: no I/O, answers as long as the event loop does. */
export const healthRoutes: FastifyPluginAsyncTypebox<{ services: AppServices }> = async (app, { services }) => {
  const startedAt = services.clock.now();
  app.get('/api/health', {
    config: { access: PUBLIC },
    schema: {
      tags: ['health'],
      response: { 200: Type.Object({ status: Type.Literal('ok'), version: Type.String(), uptime: Type.Number() }) },
    },
  }, async () => ({
    status: 'ok' as const,
    version: services.config.version,
    uptime: Math.round((services.clock.now() - startedAt) / 1000),
  }));
};
