/**
 * Whether this instance is shutting down. Set once on SIGTERM/SIGINT: readiness answers 503
 * from then on and responses carry `Connection: close`, so load balancers and keep-alive
 * clients move to another instance before the listener closes.
 */
export interface DrainState {
  readonly draining: boolean;
  start(): void;
}

export function createDrainState(): DrainState {
  let draining = false;
  return {
    get draining() {
      return draining;
    },
    start() {
      draining = true;
    },
  };
}
