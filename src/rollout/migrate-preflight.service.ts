import { formatMigrationPlan, openOwnerDatabase, readMigrationStatus, runMigrations } from '../db/index.js';
import type { Plan } from './plan.schema.js';
import { probeHealth, type PreflightCheck, type PreflightResult } from './preflight.service.js';
import { callJson, createSessionSample, type SessionSample } from './session-sample.js';
import { runSmokeSuite, type SmokeResult } from './smoke.js';
import { verifyRollback, type RollbackVerification } from './verify-rollback.service.js';

/**
 * The shared database the release migrates, as the controller reaches it:
 * BOKA_ROLLOUT_DATABASE_URL (the release's database, an owner login) and migrations source (`BOKA_MIGRATIONS_DIR`, default the
 * migrations shipped with the controller's build). Needed for `preflight.migrate: apply`;
 * with `check` and no database, green's readiness vouches for the schema instead.
 */
export interface MigrationDatabase {
  readonly url: string;
  readonly migrationsDir?: string | undefined;
}

export interface MigrationGateOptions {
  readonly plan: Plan;
  readonly blue: readonly string[];
  readonly green: readonly string[];
  readonly database?: MigrationDatabase | undefined;
  readonly now?: () => number;
  /** The smoke suite (default `runSmokeSuite` with the plan's extra checks). */
  readonly smoke?: (url: string) => Promise<SmokeResult>;
  /**
   * How often the session samples are refreshed on blue while the rollout runs (default 5 min),
   * so a rollback hours later (the bake) still finds them inside the session idle timeout.
   */
  readonly keepAliveMs?: number;
}

/** Migrations before traffic (ADR 0011) and the post-rollback verification that relies on its session samples. */
export interface MigrationGate {
  /** Runs the migration step, then `base` (the green preflight), then blue on the new schema. */
  runPreflight(base: () => Promise<PreflightResult>): Promise<PreflightResult>;
  /** The seed's four checks against blue (verify-rollback.service.ts). */
  verifyRollback(): Promise<RollbackVerification>;
  /** Stops refreshing the samples. */
  close(): void;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * `apply`: the pre-rollout step, `expand` migrations only (`boka db migrate --phase expand`; a
 * `contract` one never runs inside a rollout, ADR 0010). `check`: reads the level. Either way
 * the schema must reach the release's required level (its newest `expand` migration).
 */
async function runMigrationStep(plan: Plan, database: MigrationDatabase | undefined): Promise<PreflightCheck> {
  const mode = plan.preflight.migrate;
  const name = `migrations (${mode})`;
  if (!database) {
    return mode === 'apply'
      ? { name, ok: false, detail: 'preflight.migrate: apply needs BOKA_ROLLOUT_DATABASE_URL (the release\'s database, an owner login) in the controller\'s environment' }
      : { name, ok: true, detail: 'no BOKA_ROLLOUT_DATABASE_URL here: green\'s readiness (migrations_pending) vouches for the schema' };
  }
  const dir = database.migrationsDir;
  try {
    const db = await openOwnerDatabase({ databaseUrl: database.url, dataDir: 'memory' });
    try {
      let applied = '';
      if (mode === 'apply') {
        const run = await runMigrations(db, { phase: 'expand', force: false, dryRun: false, dir });
        if (!run.plan.complete) return { name, ok: false, detail: formatMigrationPlan(run.plan).join('; ') };
        applied = `applied ${run.applied.length ? run.applied.join(', ') : 'nothing'}; `;
      }
      const status = await readMigrationStatus(db, dir);
      const ok = status.current >= status.required;
      return { name, ok, detail: ok ? `${applied}schema at ${status.current} (release requires ${status.required}, newest ${status.latest})` : `schema at ${status.current}, the release requires ${status.required}: run \`boka db migrate --phase expand\` or set preflight.migrate: apply` };
    } finally {
      await db.close();
    }
  } catch (error) {
    return { name, ok: false, detail: message(error) };
  }
}

/** Blue again, now on the migrated schema: readiness, deep health, the smoke suite. */
async function checkBlueOnNewSchema(plan: Plan, blue: readonly string[], smoke: (url: string) => Promise<SmokeResult>): Promise<PreflightCheck[]> {
  const t = plan.preflight.timeoutMs;
  const checks: PreflightCheck[] = [];
  for (const url of blue) {
    const ready = await probeHealth(url, plan.preflight.readyPath, t);
    const deep = await probeHealth(url, plan.preflight.deepPath, t);
    checks.push({ ...ready, name: `blue on new schema: ready ${ready.name}` }, { ...deep, name: `blue on new schema: deep ${deep.name}` });
    if (plan.preflight.smoke) {
      const result = await smoke(url);
      checks.push(...result.checks.map((c) => ({ name: `blue on new schema: smoke ${url} ${c.name}`, ok: c.ok, detail: c.detail })));
    }
  }
  return checks;
}

export function createMigrationGate(options: MigrationGateOptions): MigrationGate {
  const { plan } = options;
  const now = options.now ?? Date.now;
  const smoke = options.smoke ?? ((url: string) => runSmokeSuite(url, { extraChecks: plan.preflight.checks, timeoutMs: plan.preflight.timeoutMs }));
  const samples: SessionSample[] = [];
  let keepAlive: NodeJS.Timeout | null = null;

  /** Refresh on blue, the rollback target; a failure is left for the verification to find. */
  async function refreshSamples(): Promise<void> {
    const url = options.blue[0];
    if (!url) return;
    for (const sample of samples) {
      const res = await callJson(url, 'POST', '/api/auth/refresh', { body: { refreshToken: sample.refreshToken }, timeoutMs: plan.preflight.timeoutMs }).catch(() => null);
      if (res?.status === 200 && typeof res.body?.accessToken === 'string' && typeof res.body.refreshToken === 'string') {
        sample.accessToken = res.body.accessToken;
        sample.refreshToken = res.body.refreshToken;
      }
    }
  }

  async function signInSamples(): Promise<PreflightCheck[]> {
    const checks: PreflightCheck[] = [];
    for (const [via, url] of [['blue', options.blue[0]], ['green', options.green[0]]] as const) {
      if (!url) continue;
      try {
        samples.push(await createSessionSample(url, via, plan.preflight.timeoutMs));
        checks.push({ name: `session sample via ${via}`, ok: true, detail: 'signed in; kept in memory for the post-rollback verification' });
      } catch (error) {
        checks.push({ name: `session sample via ${via}`, ok: false, detail: message(error) });
      }
    }
    keepAlive ??= setInterval(() => void refreshSamples(), options.keepAliveMs ?? 5 * 60_000).unref();
    return checks;
  }

  return {
    async runPreflight(base) {
      const checks: PreflightCheck[] = [];
      if (plan.preflight.migrate !== 'off') {
        const migration = await runMigrationStep(plan, options.database);
        // Nothing else is meaningful on a schema the release could not reach.
        if (!migration.ok) return { ok: false, checks: [migration] };
        checks.push(migration);
      }
      checks.push(...(await base()).checks);
      if (plan.preflight.migrate !== 'off') checks.push(...(await checkBlueOnNewSchema(plan, options.blue, smoke)));
      if (checks.every((c) => c.ok)) checks.push(...(await signInSamples()));
      return { ok: checks.every((c) => c.ok), checks };
    },
    verifyRollback() {
      return verifyRollback({ blue: options.blue, deepPath: plan.preflight.deepPath, timeoutMs: plan.preflight.timeoutMs, samples, now });
    },
    close() {
      if (keepAlive) clearInterval(keepAlive);
      keepAlive = null;
    },
  };
}
