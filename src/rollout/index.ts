/** Public surface of the rollout capability. */
export { runPlan, runRemote, runSmoke, runStart, type RemoteValues, type StartValues } from './cli.js';
export { DEFAULT_PLAN, loadPlan, formatPlanErrors, type PlanError } from './plan.core.js';
export type { Plan, Rule, Step } from './plan.schema.js';
export { createInitialState, decide } from './decision.core.js';
export type * from './decision.types.js';
export { createRouter, type Router, type RouterOptions } from './router/router.js';
export type { TrafficRouter } from './traffic/traffic-router.js';
export type { MetricSource } from './metrics/metric-source.js';
export { runSmokeSuite, formatSmokeResult } from './smoke.js';
export { startRollout } from './start-rollout.js';
