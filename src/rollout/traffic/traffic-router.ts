/**
 * The traffic port: whatever splits requests between blue and green. Implementations live one
 * per folder (`builtin/`, `nginx/`) and all pass test/rollout/traffic-router.suite.ts.
 */
export interface TrafficRouter {
  readonly name: string;
  /** Applies the green weight (0..100). Resolves once the change is live, not just requested. */
  setGreenWeight(weight: number): Promise<void>;
  /** Reads the weight the router is actually using now. */
  readGreenWeight(): Promise<number>;
  /**
   * Each color's health as the front door sees it (its own readiness checks), when it has such a
   * view; `unknown` otherwise. The nginx driver has none.
   */
  readColorHealth?(): Promise<Record<'blue' | 'green', { readonly status: 'healthy' | 'unhealthy' | 'unknown'; readonly detail: string }>>;
  /** Resolves true once green has no request in flight (false on timeout or when unknowable). */
  drainGreen(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Sets a weight and reads it back; throws when the read-back disagrees. */
export async function applyVerifiedWeight(router: TrafficRouter, weight: number): Promise<void> {
  await router.setGreenWeight(weight);
  const actual = await router.readGreenWeight();
  if (Math.abs(actual - weight) > 1e-9) {
    throw new Error(`${router.name}: asked for green ${weight}%, read back ${actual}%`);
  }
}
