import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from '../config/config.js';
import { describePrincipal, type PipelineStep } from '../access/index.js';
import { AppError } from '../errors/index.js';
import { API_WINDOW_SECONDS, rateLimitHeaders, retryAfterSeconds } from './rate-limit.core.js';
import type { LimiterStore } from './limiter-store.js';

const pendingHeaders = new WeakMap<FastifyRequest, Record<string, string>>();

/**
 * General per-principal limit on every API route: the user, the API key, or, for anonymous
 * calls, the client IP (which honours X-Forwarded-For only from TRUST_PROXY addresses).
 * Every answer carries RateLimit-* headers. When the shared store is down, routes of class
 * `auth` fail closed (503) and other routes follow RATE_LIMIT_STORE_FAILURE.
 */
export function createRateLimitStep(store: LimiterStore, config: Pick<Config, 'rateLimit'>): PipelineStep {
  const points = config.rateLimit.perPrincipalPerMinute;
  if (points === 0) return async () => {};
  const shared = store.create('api', points, API_WINDOW_SECONDS);
  const local: RateLimiterAbstract = store.createLocal('api-local', points, API_WINDOW_SECONDS);

  return async (request, auth) => {
    // The route's class is declared next to its access policy (src/access/policy.ts).
    const routeClass = request.routeOptions.config.rateLimit ?? 'api';
    if (routeClass === 'exempt') return;
    const who = auth ? describePrincipal(auth.principal) : null;
    const key = who ? `${who.type}:${who.id}` : `ip:${request.ip}`;
    let state: RateLimiterRes;
    try {
      state = await shared.consume(key);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) {
        const headers = rateLimitHeaders({ limit: points, remaining: 0, resetMs: rejection.msBeforeNext }, API_WINDOW_SECONDS);
        throw new AppError('quota_exceeded', undefined, undefined, {
          headers: { ...headers, 'retry-after': retryAfterSeconds(rejection.msBeforeNext) },
        });
      }
      const mode = config.rateLimit.onStoreFailure;
      if (routeClass === 'auth' || mode === 'closed') {
        throw new AppError('service_unavailable', 'Rate limiting is unavailable', undefined, { cause: rejection, headers: { 'retry-after': '5' } });
      }
      if (mode === 'open') return;
      try {
        state = await local.consume(key);
      } catch (localRejection) {
        if (!(localRejection instanceof RateLimiterRes)) throw localRejection;
        throw new AppError('quota_exceeded', undefined, undefined, { headers: { 'retry-after': retryAfterSeconds(localRejection.msBeforeNext) } });
      }
    }
    pendingHeaders.set(request, rateLimitHeaders({ limit: points, remaining: state.remainingPoints, resetMs: state.msBeforeNext }, API_WINDOW_SECONDS));
  };
}

/** Copies the step's RateLimit-* values onto the response (the step itself has no reply). */
export function installRateLimitHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply, payload) => {
    const headers = pendingHeaders.get(request);
    if (headers) void reply.headers(headers);
    return payload;
  });
}
