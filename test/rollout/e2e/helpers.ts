import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ControllerResult } from '../../../src/rollout/controller.service.js';
import type { Decision, Observation, RuleEvaluation } from '../../../src/rollout/decision.types.js';
import { formatPlanErrors, loadPlan } from '../../../src/rollout/plan.core.js';
import type { Plan } from '../../../src/rollout/plan.schema.js';
import type { RunningRollout } from '../../../src/rollout/start-rollout.js';

export function plan(yaml: string): Plan {
  const loaded = loadPlan(yaml);
  if (!loaded.ok) throw new Error(formatPlanErrors(loaded.errors, 'test plan'));
  return loaded.plan;
}

export interface LoggedDecision extends Decision {
  readonly seq: number;
  readonly type: 'decision';
}

export interface LoggedObservation extends Pick<Observation, 'green' | 'blue' | 'windowMs'> {
  readonly seq: number;
  readonly at: number;
  readonly type: 'observation';
  readonly weight: number;
}

/** The controller's own record of what it saw and decided (events.jsonl). */
export function readEvents(outputDir: string): { decisions: LoggedDecision[]; observations: LoggedObservation[] } {
  const lines = readFileSync(join(outputDir, 'events.jsonl'), 'utf8').split('\n').filter(Boolean);
  const events = lines.map((l) => JSON.parse(l) as { type: string });
  return {
    decisions: events.filter((e): e is LoggedDecision => e.type === 'decision'),
    observations: events.filter((e): e is LoggedObservation => e.type === 'observation'),
  };
}

export function ruleIn(decision: Decision, name: string): RuleEvaluation | undefined {
  return decision.evaluations?.find((e) => e.rule === name);
}

/** The evaluation a decision was made on: the last observation logged before it. */
export function decidingObservation(observations: readonly LoggedObservation[], decision: LoggedDecision): LoggedObservation | undefined {
  return observations.filter((o) => o.seq < decision.seq).at(-1);
}

/** Waits for the rollout to finish; past `limitMs` it stops the controller and says where it was. */
export async function finished(rollout: RunningRollout, limitMs: number): Promise<ControllerResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const s = rollout.controller.readStatus();
      reject(new Error(`rollout not finished after ${limitMs} ms: phase ${s.phase}, weight ${s.weight}, last decision ${s.lastDecision?.kind}: ${s.lastDecision?.message}`));
    }, limitMs);
  });
  try {
    return await Promise.race([rollout.controller.done, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
