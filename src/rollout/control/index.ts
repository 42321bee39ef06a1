/** The controller's control API and web dashboard (`/_rollout/*`, `/ui`). */
export { CONTROL_COMMANDS, startControlServer, type ControlServer, type ControlServerOptions, type ControlTarget } from './control-server.js';
export { buildHistoryPage, type ColorPoint, type EvaluationPoint, type HistoryPage, type LogEntry } from './history.core.js';
