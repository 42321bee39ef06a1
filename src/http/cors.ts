import type { FastifyContextConfig, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors/index.js';

/** What an allowed origin may do; `null` grants nothing (no Access-Control-* header at all). */
export interface CorsGrant {
  readonly origin: string;
  readonly credentials: boolean;
  /** `Access-Control-Allow-Methods`, already joined. */
  readonly methods: string;
}

export interface CorsOptions {
  /** Decides for a request carrying an `Origin`; a promise only when it must look something up. */
  readonly grant: (request: FastifyRequest, origin: string) => CorsGrant | null | Promise<CorsGrant | null>;
  readonly allowedHeaders: readonly string[];
  readonly exposedHeaders: readonly string[];
  readonly maxAgeSeconds: number;
  /** The policy of the `OPTIONS *` route a refused preflight falls through to. */
  readonly routeConfig: FastifyContextConfig;
}

/**
 * The CORS protocol (Fetch §3.2; ASVS 4.0.3 14.5.3) in one synchronous `onRequest` hook. It was
 * `@fastify/cors` until issue 16 measured its per-request delegator path: it copies the options
 * and then adds properties to the copy on every request, which costs ≈ 5 µs per request on
 * Node 20's V8 (≈ 65 ns on Node 24; BENCHMARKS.md, ADR 0014). The rules:
 * - `Vary: Origin` on every answer (the answer depends on it; Fetch §3.2.5 "CORS protocol and
 *   HTTP caches");
 * - an allowed origin is echoed in `Access-Control-Allow-Origin` (never `*`), with
 *   `Access-Control-Allow-Credentials: true` only when its grant says so;
 * - a preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) from an allowed
 *   origin is answered here, 204, before the access pipeline: it carries no credential
 *   (Fetch §3.2.2). An `OPTIONS` from an allowed origin without the request-method header is
 *   400 `validation_error`; a preflight from any other origin falls through to `OPTIONS *`,
 *   which answers like any unmatched request (404, or 405 where the path has other methods),
 *   with no Access-Control-* header.
 */
export function installCors(app: FastifyInstance, opts: CorsOptions): void {
  const allowHeaders = opts.allowedHeaders.join(', ');
  const exposeHeaders = opts.exposedHeaders.join(', ');
  const maxAge = String(opts.maxAgeSeconds);

  /** Returns true when the preflight was answered here. */
  function apply(request: FastifyRequest, reply: FastifyReply, grant: CorsGrant | null): boolean {
    if (!grant) return false;
    void reply.header('access-control-allow-origin', grant.origin);
    if (grant.credentials) void reply.header('access-control-allow-credentials', 'true');
    if (request.method !== 'OPTIONS') {
      void reply.header('access-control-expose-headers', exposeHeaders);
      return false;
    }
    if (request.headers['access-control-request-method'] === undefined) {
      throw new AppError('validation_error', 'A CORS preflight needs Access-Control-Request-Method', [
        { field: 'access-control-request-method', in: 'headers', message: 'is required on a preflight (Fetch §3.2.2)' },
      ]);
    }
    void reply
      .header('access-control-allow-methods', grant.methods)
      .header('access-control-allow-headers', allowHeaders)
      .header('access-control-max-age', maxAge)
      .code(204)
      .send();
    return true;
  }

  app.addHook('onRequest', (request, reply, done) => {
    void reply.header('vary', 'Origin');
    const origin = request.headers.origin;
    if (origin === undefined) return done();
    try {
      const grant = opts.grant(request, origin);
      if (!(grant instanceof Promise)) {
        if (!apply(request, reply, grant)) done();
        return;
      }
      grant.then(
        (g) => {
          try {
            if (!apply(request, reply, g)) done();
          } catch (err) {
            done(err as Error);
          }
        },
        (err: unknown) => done(err as Error),
      );
    } catch (err) {
      done(err as Error);
    }
  });

  // A refused preflight reaches the router: this route hands it to the not-found handler
  // (404, or 405 where the path has other methods), the same answer as any unmatched request.
  app.options('*', { config: opts.routeConfig, schema: { hide: true, tags: ['cors'], operationId: 'preflightCors', summary: 'CORS preflight (Fetch §3.2.2)' } }, (_request, reply) => {
    reply.callNotFound();
  });
}
