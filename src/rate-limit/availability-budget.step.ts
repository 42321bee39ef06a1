import type { FastifyRequest } from 'fastify';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from '../config/config.js';
import { describePrincipal, type AuthContext, type PipelineStep } from '../access/index.js';
import { AppError } from '../errors/index.js';
import { API_WINDOW_SECONDS, retryAfterSeconds } from './rate-limit.core.js';
import type { LimiterStore } from './limiter-store.js';

/**
 * The availability budget: routes of class `availability` cost far more than
 * an ordinary read, so besides the general per-principal limit they draw on two budgets per
 * minute: one per caller (user, API key, or the client IP when anonymous) and one per tenant
 * (public slug or tenant id), so many clients together cannot pin one tenant's CPU either.
 * A store failure follows RATE_LIMIT_STORE_FAILURE like the general step.
 */
export function createAvailabilityBudgetStep(store: LimiterStore, config: Pick<Config, 'rateLimit'>): PipelineStep {
  const { availabilityPerCallerPerMinute: perCaller, availabilityPerTenantPerMinute: perTenant, onStoreFailure } = config.rateLimit;
  const limiters: { name: string; points: number; shared: RateLimiterAbstract; local: RateLimiterAbstract }[] = [];
  if (perCaller > 0) limiters.push({ name: 'caller', points: perCaller, shared: store.create('avail-caller', perCaller, API_WINDOW_SECONDS), local: store.createLocal('avail-caller-local', perCaller, API_WINDOW_SECONDS) });
  if (perTenant > 0) limiters.push({ name: 'tenant', points: perTenant, shared: store.create('avail-tenant', perTenant, API_WINDOW_SECONDS), local: store.createLocal('avail-tenant-local', perTenant, API_WINDOW_SECONDS) });
  if (limiters.length === 0) return () => {};

  const refuse = (msBeforeNext: number) =>
    new AppError('quota_exceeded', 'Too many availability requests; try again later', undefined, {
      headers: { 'retry-after': retryAfterSeconds(msBeforeNext) },
    });

  // Synchronous on every other route class (issue 16).
  return (request, auth) => {
    if (request.routeOptions.config.rateLimit !== 'availability') return;
    return spend(request, auth);
  };

  async function spend(request: FastifyRequest, auth: AuthContext | null): Promise<void> {
    const who = auth ? describePrincipal(auth.principal) : null;
    const keys = {
      caller: who ? `${who.type}:${who.id}` : `ip:${request.ip}`,
      tenant: auth?.tenantId ? `id:${auth.tenantId}` : `slug:${readSlug(request)}`,
    } as Record<string, string>;
    for (const l of limiters) {
      const key = keys[l.name]!;
      try {
        await l.shared.consume(key);
      } catch (rejection) {
        if (rejection instanceof RateLimiterRes) throw refuse(rejection.msBeforeNext);
        if (onStoreFailure === 'closed') {
          throw new AppError('service_unavailable', 'Rate limiting is unavailable', undefined, { cause: rejection, headers: { 'retry-after': '5' } });
        }
        if (onStoreFailure === 'open') continue;
        try {
          await l.local.consume(key);
        } catch (localRejection) {
          if (!(localRejection instanceof RateLimiterRes)) throw localRejection;
          throw refuse(localRejection.msBeforeNext);
        }
      }
    }
  }
}

/** Slugs match exactly, so other spellings only reach a 404; one key per lower-cased slug keeps them in the same budget anyway. */
function readSlug(request: FastifyRequest): string {
  const slug = (request.params as Record<string, unknown> | undefined)?.slug;
  return typeof slug === 'string' ? slug.toLowerCase() : '';
}
