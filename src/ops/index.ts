export { installOps } from './install.js';
export { instrumentDatabase } from './instrumented-database.js';
export { createDrainState, type DrainState } from './drain.js';
export { createMetrics, type Metrics } from './metrics.js';
export { createOps, type Ops } from './ops.js';
export { closeLogDestination, createLogDestination } from './log-destination.js';
