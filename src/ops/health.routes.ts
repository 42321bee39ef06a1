import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@fastify/type-provider-typebox';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Config } from '../config/config.js';
import type { Ops } from './ops.js';
import type { Clock } from '../shared/clock.js';
import type { Database } from '../db/index.js';
import type { AccountService } from '../auth/accounts.service.js';
import type { CacheBus } from '../cache/invalidation-bus.js';
import type { MembershipResolver } from '../tenancy/memberships.cache.js';
import type { SessionService } from '../auth/sessions.service.js';
import type { AccessTokenService } from '../auth/access-tokens.service.js';
import { readMigrationStatus, readSchemaVersion } from '../db/index.js';
import { operator, PUBLIC } from '../access/index.js';
import { AppError } from '../errors/index.js';
import { createDeepHealth } from './deep-health.service.js';
import { readinessReasons } from './health.core.js';
import { errorResponses } from '../http/schemas.js';

/** What these routes use of the app's services. */
export interface HealthRouteDeps {
  readonly config: Config;
  readonly ops: Ops;
  readonly clock: Clock;
  readonly db: Database;
  readonly accounts: AccountService;
  readonly bus: CacheBus;
  readonly memberships: MembershipResolver;
  readonly sessions: SessionService;
  readonly tokens: AccessTokenService;
}


/** Readiness must answer even when the database hangs: a load balancer's probe has a deadline. */
const READY_DB_TIMEOUT_MS = 2_000;

const CheckSchema = Type.Object({
  status: Type.Union([Type.Literal('pass'), Type.Literal('fail')]),
  durationMs: Type.Number(),
  error: Type.Optional(Type.String()),
});

const DeepReport = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('unhealthy')]),
  version: Type.String(),
  checks: Type.Record(Type.String(), CheckSchema),
});

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('deadline exceeded')), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Liveness (`/api/health`, no I/O), readiness (`/ready`: database, migrations, draining) and
 * the deep post-deployment check (`/deep`, protected and rate-limited).
 */
export const healthRoutes: FastifyPluginAsyncTypebox<{ services: HealthRouteDeps }> = async (app, { services }) => {
  const { config, ops } = services;
  const startedAt = services.clock.now();
  const deep = createDeepHealth(services, ops, { budgetMs: config.ops.deepHealthBudgetMs });
  // One budget for the whole instance, not per client: the point is to bound database load.
  const deepLimiter = new RateLimiterMemory({ points: config.ops.deepHealthPerMinute, duration: 60 });
  let latestMigration: number | null = null;

  app.get('/api/health', {
    config: { access: PUBLIC, rateLimit: 'exempt' },
    schema: {
      tags: ['health'], operationId: 'getLiveness', summary: 'Liveness: the process answers (no I/O)',
      response: { 200: Type.Object({ status: Type.Literal('ok'), version: Type.String(), uptime: Type.Number() }) },
    },
  }, async () => ({
    status: 'ok' as const,
    version: config.version,
    uptime: Math.round((services.clock.now() - startedAt) / 1000),
  }));

  app.get('/api/health/ready', {
    config: { access: PUBLIC, rateLimit: 'exempt' },
    schema: {
      tags: ['health'], operationId: 'getReadiness', summary: 'Readiness: database reachable, migrations applied, not draining',
      response: {
        200: Type.Object({ status: Type.Literal('ok'), version: Type.String() }),
        503: Type.Object({ status: Type.Literal('unavailable'), version: Type.String(), reasons: Type.Array(Type.String()) }),
      },
    },
  }, async (_request, reply) => {
    let databaseOk = true;
    let migrations: { current: number; latest: number } | null = null;
    if (!ops.drain.draining) {
      try {
        if (latestMigration === null) {
          // `required`, not `latest`: pending contract migrations do not make this build unready (ADR 0010).
          const status = await withDeadline(readMigrationStatus(services.db, config.migrationsDir), READY_DB_TIMEOUT_MS);
          migrations = { current: status.current, latest: status.required };
          latestMigration = status.required;
        } else {
          const current = await withDeadline(readSchemaVersion(services.db), READY_DB_TIMEOUT_MS);
          migrations = { current, latest: latestMigration };
        }
      } catch (err) {
        databaseOk = false;
        reply.log.warn({ err }, 'readiness: database check failed');
      }
    }
    const reasons = readinessReasons({ draining: ops.drain.draining, databaseOk, migrations });
    if (reasons.length === 0) return { status: 'ok' as const, version: config.version };
    return reply.code(503).send({ status: 'unavailable' as const, version: config.version, reasons });
  });

  app.get('/api/health/deep', {
    config: { access: operator('health'), rateLimit: 'exempt' },
    schema: {
      tags: ['health'], operationId: 'getDeepHealth', summary: 'Deep post-deployment check of every dependency (operator only)',
      description: 'Answers 200 when every check passes or the instance is degraded, 503 with the same report when it is unhealthy.',
      response: { 200: DeepReport, 503: DeepReport, ...errorResponses({ 429: ['quota_exceeded'] }) },
    },
  }, async (request, reply) => {
    try {
      await deepLimiter.consume('deep');
    } catch (rejection) {
      const retryAfter = rejection instanceof RateLimiterRes ? Math.ceil(rejection.msBeforeNext / 1000) : 60;
      throw new AppError('quota_exceeded', 'The deep health check is rate-limited', undefined, {
        headers: { 'retry-after': String(retryAfter) },
      });
    }
    const report = await deep.run();
    return reply.code(report.status === 'unhealthy' ? 503 : 200).send(report);
  });
};
