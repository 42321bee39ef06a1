import { createHmac } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { decodeProtectedHeader } from 'jose';
import type { AccountService } from '../auth/accounts.service.js';
import type { CacheBus } from '../cache/invalidation-bus.js';
import type { Config } from '../config/config.js';
import type { Database } from '../db/index.js';
import type { MembershipResolver } from '../tenancy/memberships.cache.js';
import type { SessionService } from '../auth/sessions.service.js';
import type { AccessTokenService } from '../auth/access-tokens.service.js';
import { authorize } from '../access/index.js';
import { hashPassword } from '../auth/password.js';
import { withTenant } from '../db/index.js';
import { AppError } from '../errors/index.js';
import { NO_META } from '../shared/events.js';
import { summarizeChecks, type CheckResult, type DeepStatus } from './health.core.js';
import type { Ops } from './ops.js';
import { deleteEndedProbeSessions, ensureProbeRows, pingDatabase, PROBE, readTenantScopedTo } from './probe.repo.js';

/** What these routes use of the app's services. */
export interface DeepHealthDeps {
  readonly accounts: AccountService;
  readonly bus: CacheBus;
  readonly config: Config;
  readonly db: Database;
  readonly memberships: MembershipResolver;
  readonly sessions: SessionService;
  readonly tokens: AccessTokenService;
}


export interface DeepHealthReport {
  status: DeepStatus;
  version: string;
  checks: Record<string, CheckResult>;
}

/** No single check may hang the probe (e.g. a blackholed database connection). */
const CHECK_TIMEOUT_MS = 3_000;

function describeError(err: unknown): string {
  if (err instanceof AppError) return err.code;
  const message = err instanceof Error ? err.message : String(err);
  return message.slice(0, 200);
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The post-deployment checks, run against the real services as the synthetic probe user: log
 * in, create → validate → revoke a session, sign + verify a JWT, resolve a role, check a
 * permission, and be refused by a tenant the probe does not belong to (membership + RLS).
 * Concurrent callers share one run.
 */
export function createDeepHealth(services: DeepHealthDeps, ops: Ops, opts: { budgetMs: number }) {
  ops.metrics.markSynthetic(PROBE.userId);
  // Every instance sharing the secret key derives the same probe password; nothing to store.
  const probePassword = createHmac('sha256', Buffer.from(services.config.secretKey, 'base64url')).update('boka:health-probe').digest('base64url');
  let ensured: Promise<void> | null = null;
  let running: Promise<DeepHealthReport> | null = null;

  function ensureProbe(): Promise<void> {
    ensured ??= hashPassword(probePassword)
      .then((hash) => ensureProbeRows(services.db, hash))
      .catch((err: unknown) => {
        ensured = null; // retry on the next run
        throw err;
      });
    return ensured;
  }

  async function runChecks(): Promise<DeepHealthReport> {
    const checks: Record<string, CheckResult> = {};
    const failed = new Set<string>();
    // One-time setup (an argon2 hash + upserts) is not part of the measured response time.
    const setupError = await withTimeout(ensureProbe(), CHECK_TIMEOUT_MS).then(() => null, (err: unknown) => err ?? 'setup failed');
    const started = performance.now();

    async function check<T>(name: string, needs: readonly string[], fn: () => Promise<T>): Promise<T | undefined> {
      const t0 = performance.now();
      const missing = needs.find((n) => failed.has(n));
      if (missing) {
        failed.add(name);
        checks[name] = { status: 'fail', durationMs: 0, error: `skipped: ${missing} failed` };
        return undefined;
      }
      try {
        const value = await withTimeout(fn(), CHECK_TIMEOUT_MS);
        checks[name] = { status: 'pass', durationMs: round(performance.now() - t0) };
        return value;
      } catch (err) {
        failed.add(name);
        checks[name] = { status: 'fail', durationMs: round(performance.now() - t0), error: describeError(err) };
        return undefined;
      }
    }

    await check('database', [], async () => {
      if (setupError !== null) throw setupError;
      await pingDatabase(services.db);
    });
    await check('authentication', ['database'], async () => {
      const found = await services.accounts.verifyCredentials(PROBE.email, probePassword);
      if (!found || found.id !== PROBE.userId) throw new Error('probe credentials were refused');
    });
    const issued = await check('sessionCreation', ['authentication'], () => services.sessions.create(PROBE.userId, NO_META));
    await check('jwtValidation', ['sessionCreation'], async () => {
      const token = issued!.accessToken;
      const verified = await services.tokens.verify(token);
      if (!verified.ok) throw new Error(`fresh token rejected: ${verified.code}`);
      if (verified.claims.sub !== PROBE.userId || verified.claims.sid !== issued!.sessionId) throw new Error('claims mismatch');
      const { kid } = decodeProtectedHeader(token);
      if (!services.tokens.jwks().keys.some((k) => k.kid === kid)) throw new Error('signing key is not served by the JWKS');
    });
    await check('sessionValidation', ['sessionCreation'], async () => {
      const result = await services.sessions.check(issued!.sessionId);
      if (!result.ok) throw new Error(`fresh session rejected: ${result.reason}`);
    });
    const role = await check('roleValidation', ['authentication'], async () => {
      const resolved = await services.memberships.resolve(PROBE.tenantA, PROBE.userId);
      if (resolved !== 'owner') throw new Error(`expected role owner, got ${String(resolved)}`);
      return resolved;
    });
    const principal = { kind: 'user' as const, userId: PROBE.userId, sessionId: issued?.sessionId ?? '', isSuperadmin: false };
    await check('permissionChecking', ['roleValidation'], async () => {
      const allowed = authorize(principal, 'members.manage', { tenantId: PROBE.tenantA, role: role! });
      const denied = authorize(principal, 'members.manage', { tenantId: PROBE.tenantA, role: 'guest' });
      if (!allowed.allowed || denied.allowed) throw new Error('permission matrix gave an unexpected answer');
    });
    await check('tenantIsolation', ['authentication'], async () => {
      const foreignRole = await services.memberships.resolve(PROBE.tenantB, PROBE.userId);
      const decision = authorize(principal, 'tenant.read', { tenantId: PROBE.tenantB, role: foreignRole });
      if (decision.allowed || decision.reason !== 'tenant_mismatch') throw new Error('probe user was not denied a foreign tenant');
      // Second guard: scoped to tenant A, row-level security must hide tenant B's row.
      const visible = await withTenant(services.db, PROBE.tenantA, (tx) => readTenantScopedTo(tx, PROBE.tenantB));
      if (visible !== 0) throw new Error('row-level security let a foreign tenant row through');
    });
    await check('sessionRevocation', ['sessionValidation'], async () => {
      await services.sessions.revoke(issued!.sessionId, 'health_probe');
      const after = await services.sessions.check(issued!.sessionId);
      if (after.ok) throw new Error('revoked session still accepted');
      await deleteEndedProbeSessions(services.db);
    });
    await check('cacheBus', [], async () => {
      if (!services.bus.isHealthy()) throw new Error('cache bus disconnected; caches rely on TTL expiry');
    });
    const total = round(performance.now() - started);
    checks.responseTime =
      total <= opts.budgetMs
        ? { status: 'pass', durationMs: total }
        : { status: 'fail', durationMs: total, error: `took ${total} ms, budget ${opts.budgetMs} ms` };
    return { status: summarizeChecks(checks), version: services.config.version, checks };
  }

  return {
    run(): Promise<DeepHealthReport> {
      running ??= runChecks().finally(() => {
        running = null;
      });
      return running;
    },
  };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
