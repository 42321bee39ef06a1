import type { Config } from '../config/config.js';
import { createDrainState, type DrainState } from './drain.js';
import { createMetrics, type Metrics } from './metrics.js';

/** Operational state shared by the app, main.ts and the metrics listener. */
export interface Ops {
  readonly metrics: Metrics;
  readonly drain: DrainState;
}

export function createOps(config: Pick<Config, 'version'>): Ops {
  return { metrics: createMetrics({ version: config.version }), drain: createDrainState() };
}
