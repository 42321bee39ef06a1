import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyContextConfig, FastifyInstance, RouteOptions } from 'fastify';

/** The access layer's public policy, passed in: transport sits below the access layer and cannot import it. */
type PublicAccess = NonNullable<FastifyContextConfig['access']>;
import { ErrorResponse } from './schemas.js';

/** The Content-Security-Policy of the /docs pages (the API's JSON answers get `default-src 'none'`, see browser-access.ts). */
export const DOCS_CSP = [
  "default-src 'self'", "base-uri 'self'", "object-src 'none'", "frame-ancestors 'none'", "form-action 'self'",
  "script-src 'self'", "script-src-attr 'none'", "style-src 'self' 'unsafe-inline'", "font-src 'self' data:",
  "img-src 'self' data: validator.swagger.io", "connect-src 'self'",
].join('; ');

/** Where the interactive API documentation is served. */
export const DOCS_PREFIX = '/docs';

/**
 * OpenAPI 3.1 document generated from the route schemas (never written by hand). Must be
 * registered before the routes so it sees every one of them.
 */
export async function installOpenApi(
  app: FastifyInstance,
  opts: { version: string; publicAccess: PublicAccess },
): Promise<void> {
  const { version, publicAccess } = opts;
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
  app.get('/openapi.json', { config: { access: publicAccess }, schema: { hide: true } }, async () => app.swagger());
  await app.register(docsUi, { publicAccess });
}

/**
 * Swagger UI at /docs. The plugin registers its own routes (HTML, assets, JSON) without our
 * `config.access`, which the pipeline's onRoute check refuses; inside this encapsulated context
 * `route()` is wrapped so each of them is declared public. Nothing else registers here.
 */
async function docsUi(docs: FastifyInstance, { publicAccess }: { publicAccess: PublicAccess }): Promise<void> {
  const original = docs.route;
  docs.route = function publicRoute(this: FastifyInstance, opts: RouteOptions) {
    return original.call(this, { ...opts, config: { ...opts.config, access: publicAccess } });
  } as typeof docs.route;
  await docs.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    uiConfig: { deepLinking: true },
    // Only the package's own static assets run as script (no inline script, no eval). Swagger UI
    // sets inline styles at run time, so styles (not scripts) allow 'unsafe-inline'; the
    // package's default CSP refused them and logged a violation on every page load (ASVS 14.4.3).
    staticCSP: DOCS_CSP,
  });
}
