/**
 * The small amount of statistics the rollout decisions need (docs/adr/0102): the normal
 * quantile, Wilson score bounds for a binomial rate, Newcombe's bound for the difference of two
 * rates, and the per-look error budget. Pure and dependency-free.
 */

// Acklam's rational approximation of the inverse normal CDF (relative error < 1.2e-9).
const A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];

function poly(coefficients: readonly number[], x: number): number {
  return coefficients.reduce((sum, c) => sum * x + c, 0);
}

/** z such that P(Z ≤ z) = p for a standard normal Z; p in (0, 1). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1), got ${p}`);
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return poly(C, q) / (poly(D, q) * q + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (poly(A, r) * q) / (poly(B, r) * r + 1);
}

export interface Bounds {
  readonly lower: number;
  readonly upper: number;
}

/**
 * Wilson score bounds of a binomial rate with `x` events out of `n` at critical value `z`
 * (one-sided: each bound alone holds with confidence Φ(z)). Unlike the normal approximation it
 * stays inside [0, 1] and is honest at 0 events and small n.
 */
export function wilsonBounds(x: number, n: number, z: number): Bounds {
  if (n <= 0) return { lower: 0, upper: 1 };
  const p = Math.min(Math.max(x / n, 0), 1);
  const z2 = z * z;
  const centre = p + z2 / (2 * n);
  const spread = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  const denominator = 1 + z2 / n;
  return {
    lower: Math.max(0, (centre - spread) / denominator),
    upper: Math.min(1, (centre + spread) / denominator),
  };
}

/**
 * One-sided lower bound of p1 − p2 (Newcombe's hybrid score method, his method 10), from the
 * Wilson bounds of each rate at the same `z`: "rate 1 exceeds rate 2 by at least this much".
 */
export function rateDifferenceLowerBound(x1: number, n1: number, x2: number, n2: number, z: number): number {
  const p1 = n1 > 0 ? x1 / n1 : 0;
  const p2 = n2 > 0 ? x2 / n2 : 0;
  const b1 = wilsonBounds(x1, n1, z);
  const b2 = wilsonBounds(x2, n2, z);
  return p1 - p2 - Math.sqrt((p1 - b1.lower) ** 2 + (b2.upper - p2) ** 2);
}

/**
 * The error budget per look when `total` (the whole rollout's false-alarm rate) is spent evenly
 * over `looks` tests: by the union (Bonferroni) bound, P(any false alarm) ≤ looks × perLook
 * whatever the correlation between the looks, which overlapping windows make strong.
 */
export function alphaPerLook(total: number, looks: number): number {
  return total / Math.max(1, looks);
}

/** Φ(z), the standard normal CDF (Abramowitz–Stegun 7.1.26, absolute error < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erfc = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  return z >= 0 ? 1 - erfc / 2 : erfc / 2;
}
