import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_PLAN } from '../../src/rollout/plan.core.js';
import { BASELINE, binomial, createRandom, poisson, runCell } from '../../bench/rollout-sim.js';

// A smaller run of `npm run bench -- rollout-sim` (BENCHMARKS.md has the full table).
describe('rollout simulator (small run of the default plan)', () => {
  it('green = blue at 20 req/s: no false rollback, every rollout promoted', () => {
    const cell = runCell(DEFAULT_PLAN, { rate: 20, green: BASELINE, blue: BASELINE }, 40, 7);
    assert.equal(cell.counts.rolled_back, 0);
    assert.equal(cell.counts.promoted, 40, JSON.stringify(cell));
  });

  it('a 5 % 5xx green at 100 req/s is rolled back within the window + 2 intervals', () => {
    const cell = runCell(DEFAULT_PLAN, { rate: 100, green: { ...BASELINE, errorRate: 0.05 }, blue: BASELINE }, 40, 8);
    assert.equal(cell.counts.rolled_back, 40, JSON.stringify(cell));
    assert.ok(cell.medianDecisionMs !== null && cell.medianDecisionMs <= DEFAULT_PLAN.windowMs + 2 * DEFAULT_PLAN.intervalMs, `median ${cell.medianDecisionMs}`);
  });

  it('below the minimum traffic it ends in a pause with a reason, never an endless hold', () => {
    const cell = runCell(DEFAULT_PLAN, { rate: 0.05, green: BASELINE, blue: BASELINE, limitMs: 24 * 3_600_000 }, 10, 9);
    assert.deepEqual(cell.pauseReasons, { insufficient_traffic: 10 });
  });

  it('the samplers have the right means', () => {
    const random = createRandom(1);
    const draws = 20_000;
    for (const mean of [0.3, 5, 40, 400]) {
      let sum = 0;
      for (let i = 0; i < draws; i++) sum += poisson(random, mean);
      const sd = Math.sqrt(mean / draws);
      assert.ok(Math.abs(sum / draws - mean) < 5 * sd, `poisson(${mean}): ${sum / draws}`);
    }
    let sum = 0;
    for (let i = 0; i < draws; i++) sum += binomial(random, 600, 0.05);
    assert.ok(Math.abs(sum / draws - 30) < 5 * Math.sqrt((600 * 0.05 * 0.95) / draws), `binomial: ${sum / draws}`);
  });
});
