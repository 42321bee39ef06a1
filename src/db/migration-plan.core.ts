import { pendingMigrations, type MigrationFile } from './migration-phase.core.js';

/** A row of the instance registry (`boka_instances`, migration 006). */
export interface RegisteredInstance {
  readonly id: string;
  readonly version: string;
  /** The newest migration the instance's build ships: the schema its code was written against. */
  readonly schemaLevel: number;
  readonly host: string;
  readonly startedAt: Date;
  readonly lastSeenAt: Date;
  /** The instance's own heartbeat interval × its missed-beat allowance. */
  readonly staleAfterSeconds: number;
}

/** Alive until `staleAfterSeconds` pass without a heartbeat; `now` is the database's clock. */
export function isInstanceAlive(instance: RegisteredInstance, now: Date): boolean {
  return instance.lastSeenAt.getTime() + instance.staleAfterSeconds * 1000 > now.getTime();
}

/**
 * Live instances whose build predates `migration`: their code may use what a contract migration
 * removes. Schema level, not the version string, decides: versions may be build ids with no order,
 * whereas a build that ships migration N was written knowing N runs.
 */
export function contractBlockers(migration: MigrationFile, instances: readonly RegisteredInstance[], now: Date): RegisteredInstance[] {
  return instances.filter((i) => isInstanceAlive(i, now) && i.schemaLevel < migration.version);
}

/**
 * apply: runs now. hold: not in this run (a contract during `--phase expand`, or anything after a
 * refused or held migration: order is kept). refuse: a contract migration older instances still
 * need. force: a refused one applied anyway with `--force`.
 */
export type StepAction = 'apply' | 'hold' | 'refuse' | 'force';

export interface PlanStep {
  readonly migration: MigrationFile;
  readonly action: StepAction;
  readonly blockers: readonly RegisteredInstance[];
}

export interface MigrationPlan {
  readonly current: number;
  readonly steps: readonly PlanStep[];
  /** Migrate up to and including this version; undefined when nothing runs. */
  readonly target: number | undefined;
  /**
   * False when the run leaves the database short of what was asked: a refused contract, or (for
   * `--phase expand`) an expand migration held behind a pending contract one.
   */
  readonly complete: boolean;
}

export interface PlanInput {
  readonly migrations: readonly MigrationFile[];
  readonly current: number;
  readonly instances: readonly RegisteredInstance[];
  readonly now: Date;
  /** `expand`: only expand migrations before the first pending contract (the pre-rollout step). */
  readonly phase: 'expand' | 'all';
  readonly force: boolean;
}

/** Decides, in order, what `boka db migrate` does with each pending migration. Pure. */
export function planMigrationRun(input: PlanInput): MigrationPlan {
  const steps: PlanStep[] = [];
  let stopped = false;
  let complete = true;
  for (const migration of pendingMigrations(input.migrations, input.current)) {
    if (migration.phase === undefined) {
      throw new Error(`migration ${migration.name} declares no phase (first line \`-- phase: expand\` or \`-- phase: contract\`)`);
    }
    if (stopped) {
      steps.push({ migration, action: 'hold', blockers: [] });
      if (input.phase === 'all' || migration.phase === 'expand') complete = false;
      continue;
    }
    if (migration.phase === 'expand') {
      steps.push({ migration, action: 'apply', blockers: [] });
      continue;
    }
    if (input.phase === 'expand') {
      stopped = true;
      steps.push({ migration, action: 'hold', blockers: [] });
      continue;
    }
    const blockers = contractBlockers(migration, input.instances, input.now);
    if (blockers.length > 0 && !input.force) {
      stopped = true;
      complete = false;
      steps.push({ migration, action: 'refuse', blockers });
      continue;
    }
    steps.push({ migration, action: blockers.length > 0 ? 'force' : 'apply', blockers });
  }
  const runs = steps.filter((s) => s.action === 'apply' || s.action === 'force');
  return { current: input.current, steps, target: runs.at(-1)?.migration.version, complete };
}

/** One line per blocking instance, for refusal messages and warnings. */
export function describeInstance(i: RegisteredInstance): string {
  return `instance ${i.id} (version ${i.version}, schema level ${i.schemaLevel}, host ${i.host || '?'}, last seen ${i.lastSeenAt.toISOString()})`;
}

/** The plan as `boka db migrate --plan` prints it: one line per pending migration, then refusals. */
export function formatMigrationPlan(plan: MigrationPlan): string[] {
  if (plan.steps.length === 0) return [`database at migration ${plan.current}: nothing pending`];
  const lines = [`database at migration ${plan.current}; pending:`];
  for (const step of plan.steps) {
    lines.push(`  ${step.migration.name.padEnd(40)} ${String(step.migration.phase).padEnd(8)} ${step.action}`);
  }
  for (const step of plan.steps) {
    if (step.blockers.length === 0) continue;
    const verb = step.action === 'force' ? 'WARNING: applied with --force although' : 'refused:';
    lines.push(`${verb} ${step.migration.name} is a contract migration and ${step.blockers.length} live instance(s) run a build that predates it:`);
    for (const b of step.blockers) lines.push(`  ${describeInstance(b)}`);
    if (step.action === 'refuse') {
      lines.push('  finish or roll back the release, wait until those instances stop (or go stale), then run `boka db migrate` again; `--force` overrides');
    }
  }
  return lines;
}
