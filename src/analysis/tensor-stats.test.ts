// The streaming statistics against brute force: exact where they claim to be, close where they sample, the same
// whether the data arrives in one batch or many, and bounded in what they keep.

import { describe, expect, it } from 'vitest';
import { randn, rng, uniform } from '../quant/test-helpers.js';
import { countAbove, GrowingHistogram } from './histogram.js';
import { Extremes, Reservoir } from './sampling.js';
import { PERCENTILES, TensorStatsAccumulator } from './tensor-stats.js';

function brute(x: Float32Array) {
  const s = Float64Array.from(x).sort();
  const n = s.length;
  const mean = s.reduce((a, b) => a + b, 0) / n;
  const m2 = s.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
  const m4 = s.reduce((a, b) => a + (b - mean) ** 4, 0) / n;
  const q = (p: number) => {
    const r = (p / 100) * (n - 1);
    const lo = Math.floor(r);
    return s[lo]! + (r - lo) * (s[Math.min(lo + 1, n - 1)]! - s[lo]!);
  };
  const std = Math.sqrt(m2);
  const outliers = s.filter((v) => Math.abs(v - mean) > 6 * std).length / n;
  return { mean, std, kurtosis: m4 / (m2 * m2) - 3, q, min: s[0]!, max: s[n - 1]!, outliers };
}

function feed(acc: TensorStatsAccumulator, x: Float32Array, parts: number) {
  const step = Math.ceil(x.length / parts);
  for (let i = 0; i < x.length; i += step) acc.add(x.subarray(i, i + step));
}

describe('TensorStatsAccumulator', () => {
  it('is exact on a tensor that fits the sample, whatever the batching', () => {
    const x = randn(rng(1), 5000, 2, 0.5);
    const b = brute(x);
    for (const parts of [1, 7]) {
      const acc = new TensorStatsAccumulator();
      feed(acc, x, parts);
      const r = acc.result();
      expect(r.count).toBe(5000);
      expect(r.min).toBe(b.min);
      expect(r.max).toBe(b.max);
      expect(r.mean).toBeCloseTo(b.mean, 10);
      expect(r.std).toBeCloseTo(b.std, 10);
      expect(r.kurtosis).toBeCloseTo(b.kurtosis, 8);
      for (const p of r.percentiles) {
        expect(p.exact).toBe(true);
        expect(p.value).toBeCloseTo(b.q(p.p), 6);
      }
      expect(r.histogram.counts.reduce((a, c) => a + c, 0)).toBe(5000);
    }
  });

  it('keeps tails exact and estimates the middle on a large tensor, with planted outliers counted exactly', () => {
    const r = rng(2);
    const x = randn(r, 300_000);
    for (let i = 0; i < 40; i++) x[Math.floor(r() * x.length)] = (i % 2 ? 1 : -1) * (50 + i);
    const b = brute(x);
    const acc = new TensorStatsAccumulator();
    feed(acc, x, 13);
    const res = acc.result();
    const byP = new Map(res.percentiles.map((p) => [p.p, p]));
    for (const p of [0.1, 99.9, 99.99]) {
      expect(byP.get(p)!.exact).toBe(true);
      expect(byP.get(p)!.value).toBeCloseTo(b.q(p), 5);
    }
    expect(byP.get(50)!.exact).toBe(false);
    expect(Math.abs(byP.get(50)!.value - b.q(50))).toBeLessThan(0.05);
    expect(Math.abs(byP.get(1)!.value - b.q(1))).toBeLessThan(0.1);
    expect(res.outlierRatio).toBe(b.outliers);
    expect(res.outlierRatio).toBeCloseTo(40 / 300_000, 12);
    expect(res.kurtosis).toBeCloseTo(b.kurtosis, 6);
    expect(PERCENTILES).toEqual(res.percentiles.map((p) => p.p));
  });
});

describe('samplers', () => {
  it('Extremes keeps exactly the k largest and smallest', () => {
    const x = uniform(rng(3), 20_000, -1, 1);
    const top = new Extremes(100, 1);
    const bottom = new Extremes(100, -1);
    for (let i = 0; i < x.length; i += 999) {
      top.add(x.subarray(i, i + 999));
      bottom.add(x.subarray(i, i + 999));
    }
    const sorted = Array.from(x).sort((a, b) => a - b);
    expect(top.values()).toEqual(sorted.slice(-100).reverse());
    expect(bottom.values()).toEqual(sorted.slice(0, 100));
  });

  it('Reservoir draws a uniform, seeded sample of fixed size', () => {
    const x = Float32Array.from({ length: 100_000 }, (_, i) => i);
    const a = new Reservoir(2000, 7);
    const b = new Reservoir(2000, 7);
    for (let i = 0; i < x.length; i += 3333) a.add(x.subarray(i, i + 3333));
    b.add(x);
    const s = a.sorted();
    expect(s.length).toBe(2000);
    expect(a.complete).toBe(false);
    const mean = s.reduce((m, v) => m + v, 0) / s.length;
    expect(Math.abs(mean - 50_000)).toBeLessThan(3000);
    // every quartile of the stream is represented
    for (let q = 0; q < 4; q++)
      expect(s.filter((v) => v >= q * 25_000 && v < (q + 1) * 25_000).length).toBeGreaterThan(350);
    expect(b.sorted().length).toBe(2000);
  });
});

describe('GrowingHistogram', () => {
  it('keeps exact counts while its range grows both ways', () => {
    const h = new GrowingHistogram(64);
    const batches = [uniform(rng(4), 500, 0, 1), uniform(rng(5), 500, -10, 0), uniform(rng(6), 500, 5, 40)];
    for (const x of batches) {
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of x) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
      h.add(x, lo, hi);
    }
    const r = h.result();
    expect(r.counts.reduce((a, c) => a + c, 0)).toBe(1500);
    expect(r.lo).toBeLessThanOrEqual(-10);
    expect(r.lo + r.width * r.counts.length).toBeGreaterThanOrEqual(40);
    // a bin edge in the gap between the batches' ranges: the count above it is exact
    const edge = r.lo + r.width * Math.ceil((2 - r.lo) / r.width);
    expect(edge).toBeLessThan(5);
    const all = batches.flatMap((b) => Array.from(b));
    expect(countAbove(r, edge)).toBe(all.filter((v) => v >= edge).length);
  });
});
