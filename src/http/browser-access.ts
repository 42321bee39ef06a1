import cookie from '@fastify/cookie';
import type { FastifyContextConfig, FastifyInstance, FastifyRequest } from 'fastify';
import { isCanonicalOrigin } from '../shared/origins.js';
import { installCors, type CorsGrant } from './cors.js';

/** The access layer's public policy, passed in: transport sits below the access layer and cannot import it. */
type PublicAccess = NonNullable<FastifyContextConfig['access']>;

/**
 * Request headers a cross-origin caller may send (everything else fails its preflight);
 * `idempotency-key` lets a widget retry a booking safely (draft-ietf-httpapi-idempotency-key-header-06).
 */
export const CORS_ALLOWED_HEADERS = ['authorization', 'content-type', 'x-request-id', 'x-boka-session', 'idempotency-key'] as const;
/**
 * Response headers a cross-origin script may read: the request id, the rate-limit fields
 * (draft-ietf-httpapi-ratelimit-headers) and `idempotent-replayed` (a replayed creation).
 */
export const CORS_EXPOSED_HEADERS = ['x-request-id', 'retry-after', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'ratelimit-policy', 'idempotent-replayed'] as const;
/** How long a browser may cache a preflight answer (Chromium caps it at 2 h). */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

const PUBLIC_TENANT_PATH_RE = /^\/api\/public\/tenants\/([a-z0-9-]{1,63})(?:[/?]|$)/;
const PUBLIC_PREFIX = '/api/public/';

export interface BrowserAccessOptions {
  readonly publicAccess: PublicAccess;
  /** First-party origins (`CORS_ORIGINS`): CORS with credentials on every non-public route. */
  readonly corsOrigins: readonly string[];
  /**
   * The origins a tenant allows on its public routes, by slug; empty for an unknown slug. A
   * failure is logged and answers no CORS headers (fail closed), never a 5xx.
   */
  readonly publicOrigins: (slug: string) => Promise<readonly string[]>;
}

/**
 * The transport side of browser access (ADR 0014), installed before the access pipeline so its
 * `onRequest` hooks run first: a refused request (401, 403, 429) still carries the CORS headers
 * the browser needs to let the page read it.
 * - cookies parsed once (@fastify/cookie) for the cookie session (src/auth/cookie-session.ts);
 * - CORS (src/http/cors.ts; ASVS 14.5.3): `/api/public/tenants/:slug/*` answers only the tenant's
 *   `allowedOrigins`, never with credentials; every other route answers only `CORS_ORIGINS`,
 *   with credentials. No wildcard is ever sent, `Vary: Origin` always, and an origin that is not
 *   allowed gets no Access-Control-* header at all (its preflight falls through to 404).
 */
export async function installBrowserAccess(app: FastifyInstance, opts: BrowserAccessOptions): Promise<void> {
  await app.register(cookie);

  const firstParty = new Map<string, CorsGrant>(
    opts.corsOrigins.map((origin) => [origin, { origin, credentials: true, methods: 'GET, HEAD, POST, PUT, PATCH, DELETE' }]),
  );

  async function publicGrant(request: FastifyRequest, origin: string): Promise<CorsGrant | null> {
    const slug = PUBLIC_TENANT_PATH_RE.exec(request.url)?.[1];
    if (slug === undefined) return null;
    let allowed: readonly string[];
    try {
      allowed = await opts.publicOrigins(slug);
    } catch (err) {
      request.log.warn({ err }, 'tenant origins lookup failed: no CORS headers');
      return null;
    }
    // Public routes never take cookies: a widget on a tenant's site calls them anonymously
    // or with a bearer token it holds itself.
    return allowed.includes(origin) ? { origin, credentials: false, methods: 'GET, HEAD, POST' } : null;
  }

  // A request without an allowed Origin (most API traffic) is decided synchronously; only a
  // public route's tenant lookup waits. The preflight route is public: a preflight carries no
  // credential (RFC 9110 §9.3.7, Fetch §3.2.2) and counts against the per-IP limit.
  installCors(app, {
    grant: (request, origin) => {
      if (!isCanonicalOrigin(origin)) return null;
      if (!request.url.startsWith(PUBLIC_PREFIX)) return firstParty.get(origin) ?? null;
      return publicGrant(request, origin);
    },
    allowedHeaders: CORS_ALLOWED_HEADERS,
    exposedHeaders: CORS_EXPOSED_HEADERS,
    maxAgeSeconds: PREFLIGHT_MAX_AGE_SECONDS,
    routeConfig: { access: opts.publicAccess },
  });
}
