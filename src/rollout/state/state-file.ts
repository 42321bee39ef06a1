import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { RolloutState } from '../decision.types.js';
import type { Plan } from '../plan.schema.js';

export const STATE_FILE = 'state.json';

/**
 * Everything a restarted controller needs to continue a rollout where it was: the plan it runs,
 * the core's whole state (step, weight, rule tracks, detection) and how far events.jsonl got.
 */
export interface PersistedRollout {
  readonly format: 1;
  readonly rolloutId: string;
  /** What the rollout drives: `router http://…`, `nginx /etc/nginx/…`, `embedded 127.0.0.1:8080`. */
  readonly target: string;
  readonly plan: Plan;
  readonly state: RolloutState;
  /** Sequence number of the last event in events.jsonl when this was written. */
  readonly eventSeq: number;
  readonly updatedAt: number;
  /** True once the outcome is final (promoted, rolled back, aborted): never resumed. */
  readonly finished: boolean;
}

/**
 * Writes the state atomically: a temp file in the same directory, fsync, then rename over the
 * old one, so a crash leaves either the previous or the new state, never half of one.
 */
export function writeStateFile(dir: string, data: PersistedRollout): void {
  const path = join(dir, STATE_FILE);
  const temp = `${path}.${process.pid}.tmp`;
  const fd = openSync(temp, 'w', 0o600);
  try {
    writeSync(fd, `${JSON.stringify(data)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, path);
}

export function readStateFile(dir: string): PersistedRollout | null {
  let text: string;
  try {
    text = readFileSync(join(dir, STATE_FILE), 'utf8');
  } catch {
    return null;
  }
  const data = JSON.parse(text) as PersistedRollout;
  if (data.format !== 1) throw new Error(`${join(dir, STATE_FILE)}: unknown state format ${String(data.format)}`);
  return data;
}

/** The newest unfinished rollout under `reportRoot` that drives `target`, if any. */
export function findUnfinishedRollout(reportRoot: string, target: string): { dir: string; persisted: PersistedRollout } | null {
  let names: string[];
  try {
    names = readdirSync(reportRoot);
  } catch {
    return null;
  }
  let found: { dir: string; persisted: PersistedRollout } | null = null;
  for (const name of names) {
    const dir = join(reportRoot, name);
    let persisted: PersistedRollout | null;
    try {
      persisted = readStateFile(dir);
    } catch {
      continue;
    }
    if (!persisted || persisted.finished || persisted.target !== target) continue;
    if (!found || persisted.updatedAt > found.persisted.updatedAt) found = { dir, persisted };
  }
  return found;
}
