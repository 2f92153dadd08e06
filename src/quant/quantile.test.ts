import { describe, expect, it } from 'vitest';
import { QuantlensError } from '../errors.js';
import { quantile, quantilePosition, quantiles, TORCH_QUANTILE_MAX } from './quantile.js';
import { selectInPlace } from './select.js';
import { randn, rng } from './test-helpers.js';

const f32 = Math.fround;

/** Sort-based reference on sorted `s`: torch's position rule and float32 lerp, written out independently. */
function sortedQuantile(s: Float32Array, p: number): number {
  const rank = f32(f32(p) * (s.length - 1));
  const lo = Math.floor(rank);
  const w = rank - lo;
  const a = s[lo]!;
  const b = s[Math.min(lo + 1, s.length - 1)]!;
  if (w === 0 || a === b) return a;
  return w < 0.5 ? f32(a + f32(w * f32(b - a))) : f32(b - f32(f32(b - a) * f32(1 - w)));
}

describe('quantile', () => {
  it('matches torch.quantile linear interpolation on hand-computed cases', () => {
    const x = Float32Array.from([4, 1, 3, 2]);
    expect(quantile(x, 0.5)).toBe(2.5); // position 1.5
    expect(quantile(x, 0.25)).toBe(1.75); // position 0.75
    expect(quantile(x, 0)).toBe(1);
    expect(quantile(x, 1)).toBe(4);
    expect(quantile(Float32Array.from([10, 0, 20, 30, 40]), 0.9)).toBe(36); // 3.6 → 30 + 0.6·10
    expect(quantile(Float32Array.of(7), 0.3)).toBe(7);
    expect(quantiles(Float32Array.from([5, 5, 1, 5]), [0, 0.1, 1])).toEqual([1, 2.2, 5].map(f32));
    expect(x).toEqual(Float32Array.from([4, 1, 3, 2])); // input untouched
  });

  it('uses float32 positions up to 2^24 elements and numpy-style float64 beyond', () => {
    // f32(0.999)·1000 rounds to exactly 999 in float32; float64 would leave a 1.3e-5 weight.
    expect(quantilePosition(1001, 0.999)).toEqual({ below: 999, weight: 0 });
    const big = quantilePosition(TORCH_QUANTILE_MAX + 2, 0.5);
    expect(big.below).toBe(2 ** 23);
    expect(big.weight).toBe(0.5);
  });

  it('equals a sort-based reference on random data of many sizes, with duplicates and adversarial orders', () => {
    const rand = rng(31);
    const ps = [0, 1e-5, 1e-4, 0.001, 0.1, 0.5, 0.9, 0.999, 0.9999, 0.99999, 1];
    const cases: Float32Array[] = [];
    for (const n of [1, 2, 3, 7, 10, 63, 100, 599, 601, 1000, 4097, 20000, 120000]) cases.push(randn(rand, n));
    cases.push(Float32Array.from({ length: 5000 }, () => Math.floor(rand() * 4))); // heavy duplicates
    cases.push(Float32Array.from({ length: 3000 }, (_, i) => i)); // sorted
    cases.push(Float32Array.from({ length: 3000 }, (_, i) => -i)); // reversed
    cases.push(Float32Array.from({ length: 3001 }, (_, i) => Math.abs(i - 1500))); // organ pipe
    cases.push(new Float32Array(2000).fill(3)); // constant
    const bad: string[] = [];
    for (const x of cases) {
      const got = quantiles(x, ps);
      const sorted = x.slice().sort();
      ps.forEach((p, k) => {
        const ref = sortedQuantile(sorted, p);
        if (got[k] !== ref) bad.push(`n=${x.length} p=${p}: ${got[k]} vs ${ref}`);
      });
    }
    expect(bad).toEqual([]);
  });

  it('selection places the k-th order statistic with ≤ before and ≥ after', () => {
    const x = randn(rng(32), 10000);
    const sorted = x.slice().sort();
    for (const k of [0, 1, 4999, 9998, 9999]) {
      const a = x.slice();
      selectInPlace(a, k);
      expect(a[k]).toBe(sorted[k]);
      expect(a.subarray(0, k).every((v) => v <= a[k]!)).toBe(true);
      expect(a.subarray(k + 1).every((v) => v >= a[k]!)).toBe(true);
    }
  });

  it('throws a data error naming NaN, and rejects empty input and bad levels', () => {
    const x = Float32Array.from([1, NaN, 2]);
    expect(() => quantile(x, 0.5)).toThrow(QuantlensError);
    expect(() => quantile(x, 0.5)).toThrow(/NaN.*index 1/);
    expect(() => quantile(new Float32Array(0), 0.5)).toThrow(/empty/);
    expect(() => quantile(Float32Array.of(1), 1.5)).toThrow(/\[0, 1\]/);
  });
});
