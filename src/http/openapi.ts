import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { ErrorResponse } from './schemas.js';

/**
 * OpenAPI 3.1 document generated from the route schemas (never written by hand). Must be
 * registered before the routes so it sees every one of them.
 */
export async function installOpenApi(app: FastifyInstance, version: string): Promise<void> {
  app.addSchema(ErrorResponse);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Boka API', version, description: 'Multi-tenant booking API. Errors: see docs/errors.md.' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        },
      },
      security: [{ bearer: [] }],
    },
  });
  app.get('/openapi.json', { config: { access: { public: true } }, schema: { hide: true } }, async () => app.swagger());
}
