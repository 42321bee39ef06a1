import type { FastifyReply } from 'fastify';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from '../config/config.js';
import { describePrincipal, type PipelineStep, type RateLimitClass } from '../access/index.js';
import { AppError } from '../errors/index.js';
import { API_WINDOW_SECONDS, KEY_LIMIT_COUNTER_POINTS, rateLimitHeaders, retryAfterSeconds } from './rate-limit.core.js';
import type { LimiterStore } from './limiter-store.js';

/**
 * General per-principal limit on every API route: the user, the API key, or, for anonymous
 * calls, the client IP (which honours X-Forwarded-For only from TRUST_PROXY addresses).
 * An API key with its own `rateLimitPerMinute` gets that many (never more than the global
 * limit): counted in the same shared counter, refused once its count passes the key's own
 * limit, so the limit holds across instances (ADR 0017).
 * Every answer carries RateLimit-* headers. When the shared store is down, routes of class
 * `auth` fail closed (503) and other routes follow RATE_LIMIT_STORE_FAILURE.
 */
export function createRateLimitStep(store: LimiterStore, config: Pick<Config, 'rateLimit'>): PipelineStep {
  const globalPoints = config.rateLimit.perPrincipalPerMinute;
  // With the general limit off, only keys with their own limit are counted, in a counter wide
  // enough for the largest key limit the API accepts.
  const points = globalPoints > 0 ? globalPoints : KEY_LIMIT_COUNTER_POINTS;
  const shared = store.create(globalPoints > 0 ? 'api' : 'api-key', points, API_WINDOW_SECONDS);
  const local: RateLimiterAbstract = store.createLocal(globalPoints > 0 ? 'api-local' : 'api-key-local', points, API_WINDOW_SECONDS);

  const refuse = (limit: number, msBeforeNext: number) =>
    new AppError('quota_exceeded', undefined, undefined, {
      headers: { ...rateLimitHeaders({ limit, remaining: 0, resetMs: msBeforeNext }, API_WINDOW_SECONDS), 'retry-after': retryAfterSeconds(msBeforeNext) },
    });

  // Synchronous when nothing is counted (exempt routes, no limit for this caller): issue 16.
  return (request, auth, _policy, reply) => {
    // The route's class is declared next to its access policy (src/access/policy.ts).
    const routeClass = request.routeOptions.config.rateLimit ?? 'api';
    if (routeClass === 'exempt') return;
    const principal = auth?.principal;
    const keyLimit = principal?.kind === 'api_key' && principal.rateLimitPerMinute !== null ? Math.min(principal.rateLimitPerMinute, points) : null;
    if (globalPoints === 0 && keyLimit === null) return;
    const who = auth ? describePrincipal(auth.principal) : null;
    return count(who ? `${who.type}:${who.id}` : `ip:${request.ip}`, keyLimit ?? points, routeClass, reply);
  };

  async function count(key: string, limit: number, routeClass: RateLimitClass, reply: FastifyReply): Promise<void> {
    let state: RateLimiterRes;
    try {
      state = await shared.consume(key);
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) throw refuse(limit, rejection.msBeforeNext);
      const mode = config.rateLimit.onStoreFailure;
      if (routeClass === 'auth' || mode === 'closed') {
        throw new AppError('service_unavailable', 'Rate limiting is unavailable', undefined, { cause: rejection, headers: { 'retry-after': '5' } });
      }
      if (mode === 'open') return;
      try {
        state = await local.consume(key);
      } catch (localRejection) {
        if (!(localRejection instanceof RateLimiterRes)) throw localRejection;
        throw refuse(limit, localRejection.msBeforeNext);
      }
    }
    if (state.consumedPoints > limit) throw refuse(limit, state.msBeforeNext);
    void reply.headers(rateLimitHeaders({ limit, remaining: limit - state.consumedPoints, resetMs: state.msBeforeNext }, API_WINDOW_SECONDS));
  }
}
