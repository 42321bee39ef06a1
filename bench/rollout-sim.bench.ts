/**
 * `npm run bench -- rollout-sim`: the default plan's decisions over ROLLOUT_SIM_RUNS (default
 * 1 000) simulated rollouts per cell, at 1, 5, 10, 20 and 100 req/s, plus a rate below the
 * minimum traffic. Seeded (ROLLOUT_SIM_SEED, default 13), so a run is reproducible; the seed of
 * each cell depends only on its rate's position in 1,5,10,20,100, so ROLLOUT_SIM_RATES (a subset)
 * and ROLLOUT_SIM_SKIP_BELOW split a run over processes with the same numbers.
 */
import { DEFAULT_PLAN } from '../src/rollout/plan.core.js';
import { BASELINE, runCell, type CellSummary, type SimScenario } from './rollout-sim.js';

const RUNS = Number(process.env.ROLLOUT_SIM_RUNS ?? 1000);
const SEED = Number(process.env.ROLLOUT_SIM_SEED ?? 13);
const RATES = (process.env.ROLLOUT_SIM_RATES ?? '1,5,10,20,100').split(',').map(Number);
const BELOW_MINIMUM = 0.05;

const pct = (count: number, runs: number) => `${((100 * count) / runs).toFixed(1)} %`;
const minutes = (ms: number | null) => (ms === null ? 'n/a' : ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 60_000).toFixed(1)} min`);
const detected = (c: CellSummary) => c.counts.rolled_back + c.counts.paused;
const reasons = (c: CellSummary) => Object.entries(c.pauseReasons).map(([r, n]) => `${r} ${n}`).join(', ') || '–';

export async function run(): Promise<string> {
  const lines = [
    '### Rollout decision simulator',
    '',
    `Default plan (0 % for 5 min, then 10/25/50/75/100 % at T+5/15/30/45/60, 2 h bake), ${RUNS} rollouts per cell, seed ${SEED}. ` +
      'Blue and a good green: 0.1 % 5xx, latency lognormal (median 40 ms, p95 ≈ 91 ms). Bad green: 5 % 5xx, or every request +300 ms. ' +
      'Time to decision counts from the moment green first receives traffic (the fault is in the release).',
    '',
    '| req/s | green = blue: false rollback | false pause | promoted | 5 % 5xx: detected before promotion | median time to decision | p95 +300 ms: detected before promotion | median time to decision |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  const started = Date.now();
  for (const rate of RATES) {
    const i = [1, 5, 10, 20, 100].indexOf(rate);
    const cell = (scenario: Omit<SimScenario, 'rate'>, k: number) => runCell(DEFAULT_PLAN, { rate, ...scenario }, RUNS, SEED * 1000 + i * 10 + k);
    const same = cell({ green: BASELINE, blue: BASELINE }, 0);
    const errors = cell({ green: { ...BASELINE, errorRate: 0.05 }, blue: BASELINE }, 1);
    const slow = cell({ green: { ...BASELINE, shiftMs: 300 }, blue: BASELINE }, 2);
    lines.push(
      `| ${rate} | ${pct(same.counts.rolled_back, RUNS)} | ${pct(same.counts.paused, RUNS)} (${reasons(same)}) | ${pct(same.counts.promoted, RUNS)} | ` +
        `${pct(detected(errors), RUNS)} (rollback ${errors.counts.rolled_back}, pause ${errors.counts.paused}) | ${minutes(errors.medianDecisionMs)} | ` +
        `${pct(detected(slow), RUNS)} (${reasons(slow)}) | ${minutes(slow.medianDecisionMs)} |`,
    );
    console.error(`rollout-sim: ${rate} req/s done (${Math.round((Date.now() - started) / 1000)} s)`);
  }
  if (process.env.ROLLOUT_SIM_SKIP_BELOW) return lines.join('\n');
  const below = runCell(DEFAULT_PLAN, { rate: BELOW_MINIMUM, green: BASELINE, blue: BASELINE, limitMs: 24 * 3_600_000 }, RUNS, SEED * 1000 + 99);
  lines.push(
    '',
    `Below the minimum traffic (${BELOW_MINIMUM} req/s, green = blue): promoted ${pct(below.counts.promoted, RUNS)}, ` +
      `paused ${pct(below.counts.paused, RUNS)} (${reasons(below)}), rolled back ${pct(below.counts.rolled_back, RUNS)}, ` +
      `endless hold ${pct(below.counts.endless, RUNS)}; median time to the pause ${minutes(below.medianDecisionMs)} after green's first traffic.`,
    '',
    `Simulated in ${Math.round((Date.now() - started) / 1000)} s.`,
  );
  return lines.join('\n');
}
