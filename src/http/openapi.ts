import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyContextConfig, FastifyInstance, FastifySchema, RouteOptions } from 'fastify';
import type { ErrorCode } from '../errors/index.js';
import { DOCUMENT_HEADERS } from './response-headers.js';
import { ErrorResponse } from './schemas.js';

/** The access layer's policy shape, passed in: transport sits below the access layer and cannot import it. */
type AccessPolicy = NonNullable<FastifyContextConfig['access']>;
type RateLimitClass = NonNullable<FastifyContextConfig['rateLimit']>;
/** The Content-Security-Policy of the /docs pages (the API's JSON answers get `default-src 'none'`, see browser-access.ts). */
export const DOCS_CSP = [
  "default-src 'self'", "base-uri 'self'", "object-src 'none'", "frame-ancestors 'none'", "form-action 'self'",
  "script-src 'self'", "script-src-attr 'none'", "style-src 'self' 'unsafe-inline'", "font-src 'self' data:",
  "img-src 'self' data: validator.swagger.io", "connect-src 'self'",
].join('; ');

/** Where the interactive API documentation is served. */
export const DOCS_PREFIX = '/docs';

/** The security schemes of the document; each operation names the ones its access policy accepts. */
export const SECURITY_SCHEMES = {
  bearer: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'The access token from sign-up, login, refresh or MFA verification (RFC 6750 §2.1).',
  },
  apiKey: {
    type: 'apiKey',
    in: 'header',
    name: 'X-API-Key',
    description: 'A tenant API key (`boka_sk_…`), on tenant routes only; it may also be sent as `Authorization: Bearer boka_sk_…`.',
  },
  operatorToken: {
    type: 'http',
    scheme: 'bearer',
    description:
      'The operator token of the endpoint (HEALTH_TOKEN, METRICS_TOKEN), also accepted as `X-Operator-Token`. ' +
      'Without a configured token the endpoint answers callers on the same machine only.',
  },
} as const;

type SecurityRequirement = Partial<Record<keyof typeof SECURITY_SCHEMES, []>>;

/** Which credentials the pipeline (src/access/pipeline.ts) accepts for a policy. */
export function securityFor(access: AccessPolicy): SecurityRequirement[] {
  // `signedInOptional`: anonymous, or a user's bearer token (the empty requirement = none needed).
  if ('public' in access) return access.signedInOptional ? [{}, { bearer: [] }] : [];
  if ('operator' in access) return [{ operatorToken: [] }];
  // Tenant routes accept an API key (a service principal of the tenant, ADR 0017) unless the
  // policy says `apiKeys: false`; `authenticated` and `superadmin` routes accept users only.
  if ('permission' in access) return access.apiKeys === false ? [{ bearer: [] }] : [{ bearer: [] }, { apiKey: [] }];
  return [{ bearer: [] }];
}

/** Path parameters the input guard (src/http/input-guard.ts) answers 404 for when not a canonical UUID. */
const ID_PARAM_RE = /:(?:id|[a-z][A-Za-z]*Id)(?=\/|$)/;
const BODYLESS_METHODS = new Set(['GET', 'HEAD']);

/**
 * The error answers the transport and the request pipeline produce for a route before or around
 * its handler, from its access policy and rate-limit class alone. Route authors declare only the
 * errors their handler adds (`errorResponses` in src/http/schemas.ts); both are merged.
 */
export function pipelineErrors(route: {
  method: string;
  url: string;
  access: AccessPolicy;
  rateLimit: RateLimitClass | undefined;
}): Partial<Record<number, ErrorCode[]>> {
  const { access, url } = route;
  const rateLimit = route.rateLimit ?? 'api';
  const errors: Partial<Record<number, ErrorCode[]>> = {};
  const add = (status: number, ...codes: ErrorCode[]) => (errors[status] = [...(errors[status] ?? []), ...codes]);

  // Schema and NUL checks, unparsable JSON, wrong content type, malformed URL.
  add(400, 'validation_error', 'invalid_request');
  const signedIn = 'authenticated' in access || 'superadmin' in access || 'permission' in access;
  if (signedIn) add(401, 'missing_authorization', 'invalid_token', 'token_expired');
  // A credential sent where it is optional is still checked: a bad one is 401, an API key 403.
  const optional = 'public' in access && access.signedInOptional === true;
  if (optional) add(401, 'invalid_token', 'token_expired');
  if ('permission' in access) {
    add(403, 'tenant_mismatch', 'insufficient_permissions', 'mfa_required');
    if (access.apiKeys === false) add(403, 'forbidden');
  } else if (signedIn || optional || 'operator' in access) add(403, 'forbidden');
  // A `:tenantId` or id parameter that is not the canonical UUID names nothing.
  if ('permission' in access || ID_PARAM_RE.test(url)) add(404, 'not_found');
  if (!BODYLESS_METHODS.has(route.method)) add(413, 'payload_too_large');
  if (rateLimit !== 'exempt') add(429, 'quota_exceeded');
  add(500, 'internal_server_error');
  add(503, 'database_error');
  // The rate-limit store down: `auth` routes fail closed (RATE_LIMIT_STORE_FAILURE for the rest).
  if (rateLimit !== 'exempt') add(503, 'service_unavailable');
  if (rateLimit !== 'exempt') add(504, 'timeout');
  return errors;
}

type ResponseSchemas = Record<string, unknown>;

function isErrorRef(value: unknown): value is { description?: string; $ref: string } {
  return typeof value === 'object' && value !== null && (value as { $ref?: unknown }).$ref === 'ErrorResponse#';
}

/**
 * The route's own responses plus the pipeline's errors. A status the route declares with the
 * shared error schema gets the union of both code lists; one it declares with another body
 * (a readiness report on 503) keeps that body.
 */
function mergeResponses(declared: ResponseSchemas | undefined, generic: Partial<Record<number, ErrorCode[]>>): ResponseSchemas {
  const merged: ResponseSchemas = { ...declared };
  for (const [status, codes = []] of Object.entries(generic)) {
    const own = merged[status];
    if (own !== undefined && !isErrorRef(own)) continue;
    const ownCodes = own?.description ? own.description.split(', ') : [];
    merged[status] = { description: [...new Set([...ownCodes, ...codes])].join(', '), $ref: 'ErrorResponse#' };
  }
  return merged;
}

/** @fastify/swagger's per-route transform: security and pipeline errors derived from `config.access`. */
function describeRoute({ schema, url, route }: { schema: FastifySchema; url: string; route: RouteOptions }): { schema: FastifySchema; url: string } {
  const access = route.config?.access;
  if (!schema || schema.hide || !access) return { schema, url };
  const method = [route.method].flat()[0] ?? 'GET';
  const generic = pipelineErrors({ method, url: route.url ?? url, access, rateLimit: route.config?.rateLimit });
  return {
    url,
    schema: { ...schema, security: securityFor(access), response: mergeResponses(schema.response as ResponseSchemas | undefined, generic) },
  };
}

/**
 * OpenAPI 3.1 document generated from the route schemas (never written by hand). Must be
 * registered before the routes so it sees every one of them. Each operation's security and the
 * errors the pipeline can answer are derived from its `config.access` (ADR 0019).
 */
export async function installOpenApi(
  app: FastifyInstance,
  opts: { version: string; publicAccess: AccessPolicy },
): Promise<void> {
  const { version, publicAccess } = opts;
  app.addSchema(ErrorResponse);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Boka API', version, description: 'Multi-tenant booking API. Errors: see docs/errors.md.' },
      components: { securitySchemes: SECURITY_SCHEMES },
    },
    // Shared schemas keep their `$id` as the component name (`#/components/schemas/ErrorResponse`).
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    transform: describeRoute,
  });
  app.get('/openapi.json', { config: { access: publicAccess }, schema: { hide: true } }, async () => app.swagger());
  await app.register(docsUi, { publicAccess });
}

/**
 * Swagger UI at /docs. The plugin registers its own routes (HTML, assets, JSON) without our
 * `config.access`, which the pipeline's onRoute check refuses; inside this encapsulated context
 * `route()` is wrapped so each of them is declared public. Nothing else registers here.
 */
async function docsUi(docs: FastifyInstance, { publicAccess }: { publicAccess: AccessPolicy }): Promise<void> {
  const original = docs.route;
  docs.route = function publicRoute(this: FastifyInstance, opts: RouteOptions) {
    return original.call(this, { ...opts, config: { ...opts.config, access: publicAccess } });
  } as typeof docs.route;
  // The pages are documents: helmet's document-only headers too (src/http/response-headers.ts).
  docs.addHook('onRequest', (_request, reply, done) => {
    void reply.headers(DOCUMENT_HEADERS);
    done();
  });
  await docs.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    uiConfig: { deepLinking: true },
    // Only the package's own static assets run as script (no inline script, no eval). Swagger UI
    // sets inline styles at run time, so styles (not scripts) allow 'unsafe-inline'; the
    // package's default CSP refused them and logged a violation on every page load (ASVS 14.4.3).
    staticCSP: DOCS_CSP,
  });
}
