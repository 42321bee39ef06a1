/**
 * The rollout decision simulator (docs/rollout.md "Statistics and the simulator"): the pure
 * decision core on a simulated clock, fed windows built the way the router builds them (request
 * count, 5xx count, latency histogram, earliest failure) from Poisson traffic split by the
 * weight the core asked for. Per interval, not per request: counts are Poisson/binomial draws
 * from a seeded PRNG, so a whole 3-hour rollout takes milliseconds.
 */
import { createInitialState, decide } from '../src/rollout/decision.core.js';
import type { Action, ColorWindow, Input, Observation, PauseReason, RolloutState } from '../src/rollout/decision.types.js';
import type { Plan } from '../src/rollout/plan.schema.js';
import { estimateQuantile } from '../src/rollout/window-stats.core.js';

/** mulberry32: small, fast, seedable; plenty for Monte Carlo at this scale. */
export function createRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LOG_FACTORIAL: number[] = [0];
for (let k = 1; k < 64; k++) LOG_FACTORIAL[k] = (LOG_FACTORIAL[k - 1] ?? 0) + Math.log(k);

function logFactorial(k: number): number {
  if (k < 64) return LOG_FACTORIAL[k] ?? 0;
  // Stirling's series; error < 1e-10 from k = 64.
  return (k + 0.5) * Math.log(k) - k + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * k) - 1 / (360 * k ** 3);
}

/** A Poisson draw: Knuth's product method for small means, Hörmann's PTRS (1993) above. */
export function poisson(random: () => number, mean: number): number {
  if (mean <= 0) return 0;
  if (mean < 12) {
    const limit = Math.exp(-mean);
    let k = 0;
    let product = random();
    while (product > limit) {
      k++;
      product *= random();
    }
    return k;
  }
  const slam = Math.sqrt(mean);
  const loglam = Math.log(mean);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const u = random() - 0.5;
    const v = random();
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + mean + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b) <= -mean + k * loglam - logFactorial(k)) return k;
  }
}

/** A binomial draw by inversion (the means here stay small); the normal approximation past 60. */
export function binomial(random: () => number, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  const mean = n * p;
  if (mean > 60) {
    const z = Math.sqrt(-2 * Math.log(random() || 1e-300)) * Math.cos(2 * Math.PI * random());
    return Math.min(n, Math.max(0, Math.round(mean + z * Math.sqrt(mean * (1 - p)))));
  }
  const q = 1 - p;
  const s = p / q;
  const a = (n + 1) * s;
  let r = q ** n;
  let u = random();
  let x = 0;
  while (u > r && x < n) {
    u -= r;
    x++;
    r *= a / x - s;
  }
  return x;
}

/** Latency bucket upper bounds (ms) of the simulated histogram; the last is +Inf. */
const BOUNDS = [25, 50, 75, 100, 125, 150, 200, 300, 400, 500, 700, 1000, 2000, Number.POSITIVE_INFINITY];

export interface ColorModel {
  /** Fraction of requests answered 5xx. */
  readonly errorRate: number;
  /** Latency: lognormal with this median (ms) and log-sd, plus `shiftMs` for every request. */
  readonly medianMs: number;
  readonly sigma: number;
  readonly shiftMs: number;
}

export const BASELINE: ColorModel = { errorRate: 0.001, medianMs: 40, sigma: 0.5, shiftMs: 0 };

function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  return x >= 0 ? y : -y;
}

/** P(latency ≤ ms) under the model. */
function latencyCdf(model: ColorModel, ms: number): number {
  const x = ms - model.shiftMs;
  if (x <= 0) return 0;
  if (!Number.isFinite(x)) return 1;
  return 0.5 * (1 + erf((Math.log(x) - Math.log(model.medianMs)) / (model.sigma * Math.SQRT2)));
}

function bucketProbabilities(model: ColorModel): number[] {
  let previous = 0;
  return BOUNDS.map((bound) => {
    const c = latencyCdf(model, bound);
    const p = c - previous;
    previous = c;
    return p;
  });
}

/** One interval of one color, as the router's per-second slots would sum it. */
interface Slice {
  readonly requests: number;
  readonly errors: number;
  readonly latency: number[];
  readonly firstErrorAt: number | null;
}

function simulateSlice(random: () => number, meanRequests: number, model: ColorModel, probabilities: readonly number[], start: number, lengthMs: number): Slice {
  const latency = probabilities.map((p) => poisson(random, meanRequests * p));
  const requests = latency.reduce((a, b) => a + b, 0);
  const errors = binomial(random, requests, model.errorRate);
  // The earliest of `errors` uniform failure times in the slice.
  const firstErrorAt = errors > 0 ? start + lengthMs * (1 - Math.pow(random(), 1 / errors)) : null;
  return { requests, errors, latency, firstErrorAt };
}

function toWindow(slices: readonly Slice[]): ColorWindow {
  let requests = 0;
  let errors = 0;
  let firstErrorAt: number | null = null;
  const latency = new Array<number>(BOUNDS.length).fill(0);
  for (const s of slices) {
    requests += s.requests;
    errors += s.errors;
    if (s.firstErrorAt !== null && (firstErrorAt === null || s.firstErrorAt < firstErrorAt)) firstErrorAt = s.firstErrorAt;
    s.latency.forEach((c, i) => (latency[i] = (latency[i] ?? 0) + c));
  }
  if (requests === 0) return { requests, metrics: {} };
  const p95 = estimateQuantile(latency, 0.95, BOUNDS);
  return {
    requests,
    metrics: {
      error_rate: { value: errors / requests, samples: requests },
      db_error_rate: { value: 0, samples: requests },
      ...(p95 === null ? {} : { p95_latency_ms: { value: p95, samples: requests } }),
    },
    ...(firstErrorAt === null ? {} : { firstErrorAt }),
  };
}

export type SimOutcome = 'promoted' | 'rolled_back' | 'paused' | 'endless';

export interface SimResult {
  readonly outcome: SimOutcome;
  readonly pauseReason: PauseReason | null;
  /** Decision time minus the moment green first received traffic (the fault's onset when green is bad). */
  readonly decisionAfterOnsetMs: number | null;
  readonly endedAtMs: number;
}

export interface SimScenario {
  /** Total request rate (req/s) over both colors. */
  readonly rate: number;
  readonly green: ColorModel;
  readonly blue: ColorModel;
  /** Give up (an endless hold) after this much simulated time. */
  readonly limitMs?: number;
}

/**
 * Runs one whole rollout of `plan`: preflight passes at once, every weight is read back at once,
 * health checks pass, and each interval the core observes the last window. Ends at the first
 * terminal decision: promotion, rollback, or any pause (a pause waits for a person).
 */
export function simulateRollout(plan: Plan, scenario: SimScenario, random: () => number): SimResult {
  const interval = plan.intervalMs;
  const slicesPerWindow = Math.max(1, Math.round(plan.windowMs / interval));
  const green: Slice[] = [];
  const blue: Slice[] = [];
  const probGreen = bucketProbabilities(scenario.green);
  const probBlue = bucketProbabilities(scenario.blue);
  const limit = scenario.limitMs ?? 12 * 3_600_000;
  let state: RolloutState = createInitialState();
  let now = 0;
  let routerWeight = 0;
  let onset: number | null = null;
  let ended: SimResult | null = null;

  const send = (input: Input): void => {
    const queue: Input[] = [input];
    while (queue.length > 0 && !ended) {
      const next = queue.shift() as Input;
      const t = decide(plan, state, next, now);
      state = t.state;
      for (const action of t.actions) handle(action, queue);
    }
  };
  const finish = (outcome: SimOutcome, pauseReason: PauseReason | null) => {
    ended = { outcome, pauseReason, decisionAfterOnsetMs: onset === null ? null : now - onset, endedAtMs: now };
  };
  const handle = (action: Action, queue: Input[]): void => {
    switch (action.type) {
      case 'run_preflight': queue.push({ type: 'preflight_result', ok: true, failures: [] }); break;
      case 'set_weight':
        routerWeight = action.weight;
        if (action.weight > 0 && onset === null) onset = now;
        queue.push({ type: 'weight_applied', weight: action.weight });
        break;
      case 'probe_health': queue.push({ type: 'health_result', ok: true, detail: 'ok', blue: { ok: true, detail: 'ok' } }); break;
      case 'rollback': finish('rolled_back', null); break;
      case 'finish': if (action.outcome === 'promoted') finish('promoted', null); break;
      case 'record': if (action.decision.phase === 'paused' && state.phase === 'paused') finish('paused', state.pauseReason); break;
      default: break;
    }
  };

  send({ type: 'start' });
  while (!ended && now < limit) {
    const start = now;
    now += interval;
    const mean = (scenario.rate * interval) / 1000;
    green.push(simulateSlice(random, (mean * routerWeight) / 100, scenario.green, probGreen, start, interval));
    blue.push(simulateSlice(random, (mean * (100 - routerWeight)) / 100, scenario.blue, probBlue, start, interval));
    if (green.length > slicesPerWindow) green.shift();
    if (blue.length > slicesPerWindow) blue.shift();
    const observation: Observation = { at: now, windowMs: plan.windowMs, green: toWindow(green), blue: toWindow(blue) };
    send({ type: 'observe', observation });
  }
  return ended ?? { outcome: 'endless', pauseReason: null, decisionAfterOnsetMs: null, endedAtMs: now };
}

export interface CellSummary {
  readonly runs: number;
  readonly counts: Readonly<Record<SimOutcome, number>>;
  readonly pauseReasons: Readonly<Record<string, number>>;
  /** Median decision time after onset over the runs that rolled back or paused. */
  readonly medianDecisionMs: number | null;
}

/** Runs `runs` rollouts of one scenario with a PRNG seeded from `seed`. */
export function runCell(plan: Plan, scenario: SimScenario, runs: number, seed: number): CellSummary {
  const random = createRandom(seed);
  const counts: Record<SimOutcome, number> = { promoted: 0, rolled_back: 0, paused: 0, endless: 0 };
  const pauseReasons: Record<string, number> = {};
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = simulateRollout(plan, scenario, random);
    counts[r.outcome]++;
    if (r.outcome === 'paused') pauseReasons[r.pauseReason ?? 'unknown'] = (pauseReasons[r.pauseReason ?? 'unknown'] ?? 0) + 1;
    if ((r.outcome === 'rolled_back' || r.outcome === 'paused') && r.decisionAfterOnsetMs !== null) times.push(r.decisionAfterOnsetMs);
  }
  times.sort((a, b) => a - b);
  const medianDecisionMs = times.length > 0 ? (times[Math.floor((times.length - 1) / 2)] ?? null) : null;
  return { runs, counts, pauseReasons, medianDecisionMs };
}
