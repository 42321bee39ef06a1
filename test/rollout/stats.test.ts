import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { alphaPerLook, normalCdf, normalQuantile, rateDifferenceLowerBound, wilsonBounds } from '../../src/rollout/stats.core.js';

const close = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not within ${tolerance} of ${expected}`);

describe('stats core', () => {
  it('normalQuantile matches the tables, in the centre and far in the tail', () => {
    close(normalQuantile(0.5), 0, 1e-9, 'median');
    close(normalQuantile(0.975), 1.959964, 1e-6, '97.5 %');
    close(normalQuantile(0.95), 1.644854, 1e-6, '95 %');
    close(normalQuantile(0.8), 0.841621, 1e-6, '80 %');
    close(normalQuantile(1 - 1e-6), 4.753424, 1e-5, '1 - 1e-6');
    close(normalQuantile(0.01), -2.326348, 1e-6, '1 %');
    assert.throws(() => normalQuantile(1), RangeError);
  });

  it('normalCdf inverts normalQuantile', () => {
    for (const p of [0.2, 0.5, 0.9, 0.99, 0.99999]) close(normalCdf(normalQuantile(p)), p, 2e-7, `p=${p}`);
  });

  it('Wilson bounds: the textbook values, honest at 0 events and never outside [0, 1]', () => {
    // Newcombe (1998), table I: 81/263 at 95 % two-sided → 0.2553 to 0.3662.
    const b = wilsonBounds(81, 263, 1.959964);
    close(b.lower, 0.2553, 1e-4, 'lower');
    close(b.upper, 0.3662, 1e-4, 'upper');
    // 0 of 10: the lower bound is 0 and the upper z²/(n+z²).
    const zero = wilsonBounds(0, 10, 1.959964);
    assert.equal(zero.lower, 0);
    close(zero.upper, 3.8415 / 13.8415, 1e-4, '0/10 upper');
    const all = wilsonBounds(5, 5, 4.75);
    assert.ok(all.upper <= 1 && all.lower > 0);
    assert.deepEqual(wilsonBounds(0, 0, 1.96), { lower: 0, upper: 1 });
  });

  it("Newcombe's difference bound: his example 56/70 − 48/80", () => {
    // Newcombe (1998b), method 10, 95 % two-sided: 0.0524 to 0.3339; the lower end is our one-sided bound.
    close(rateDifferenceLowerBound(56, 70, 48, 80, 1.959964), 0.0524, 1e-4, 'lower');
    assert.ok(rateDifferenceLowerBound(10, 1000, 10, 1000, 1.645) < 0, 'equal rates: no evidence of a difference');
  });

  it('alphaPerLook spends the budget evenly (the union bound)', () => {
    assert.equal(alphaPerLook(0.01, 100), 0.0001);
    assert.equal(alphaPerLook(0.01, 0), 0.01);
  });
});
