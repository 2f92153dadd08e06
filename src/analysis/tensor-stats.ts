// Streaming statistics of one tensor over calibration batches: exact min/max and moments (merged per batch with
// Pébay's formulas, float64), a growing histogram, a seeded reservoir for mid percentiles and the exact extremes
// for tail percentiles and the outlier count. Memory per tensor is fixed (about (reservoir + 4·tail)·4 bytes +
// bins·8), whatever the number of batches. Imports the samplers and the histogram.

import { countAbove, countBelow, GrowingHistogram, DEFAULT_BINS } from './histogram.js';
import { Extremes, Reservoir } from './sampling.js';
import type { Percentile, TensorStats } from './types.js';

/** Percentiles reported for every tensor, in percent. */
export const PERCENTILES: readonly number[] = [0.1, 1, 50, 99, 99.9, 99.99];
/** Outliers are values beyond mean ± OUTLIER_SIGMAS·std. */
export const OUTLIER_SIGMAS = 6;

export interface StatsConfig {
  reservoir: number;
  tail: number;
  bins: number;
  seed: number;
}

export const DEFAULT_STATS: StatsConfig = { reservoir: 16384, tail: 4096, bins: DEFAULT_BINS, seed: 0 };

/** What a tensor's statistics hold apart from its identity (TensorStats minus name, role, uses and shape). */
export type StatsResult = Omit<TensorStats, 'tensor' | 'role' | 'uses' | 'shape'>;

export class TensorStatsAccumulator {
  private n = 0;
  private mean = 0;
  private m2 = 0;
  private m3 = 0;
  private m4 = 0;
  private min = Infinity;
  private max = -Infinity;
  private readonly hist: GrowingHistogram;
  private readonly sample: Reservoir;
  private readonly top: Extremes;
  private readonly bottom: Extremes;

  constructor(cfg: StatsConfig = DEFAULT_STATS) {
    this.hist = new GrowingHistogram(cfg.bins);
    this.sample = new Reservoir(cfg.reservoir, cfg.seed);
    this.top = new Extremes(cfg.tail, 1);
    this.bottom = new Extremes(cfg.tail, -1);
  }

  get count(): number {
    return this.n;
  }

  /** Adds one batch of finite values (the caller checks finiteness once per tensor). */
  add(x: Float32Array): void {
    const nb = x.length;
    if (nb === 0) return;
    let sum = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < nb; i++) {
      const v = x[i]!;
      sum += v;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    const mb = sum / nb;
    let s2 = 0;
    let s3 = 0;
    let s4 = 0;
    for (let i = 0; i < nb; i++) {
      const d = x[i]! - mb;
      const d2 = d * d;
      s2 += d2;
      s3 += d2 * d;
      s4 += d2 * d2;
    }
    this.merge(nb, mb, s2, s3, s4);
    this.min = Math.min(this.min, lo);
    this.max = Math.max(this.max, hi);
    this.hist.add(x, lo, hi);
    this.sample.add(x);
    this.top.add(x);
    this.bottom.add(x);
  }

  // Pébay (2008), pairwise update of central moment sums.
  private merge(nb: number, mb: number, m2b: number, m3b: number, m4b: number): void {
    const na = this.n;
    const n = na + nb;
    const d = mb - this.mean;
    const d2 = d * d;
    const { m2: m2a, m3: m3a } = this;
    this.m4 +=
      m4b +
      (d2 * d2 * na * nb * (na * na - na * nb + nb * nb)) / (n * n * n) +
      (6 * d2 * (na * na * m2b + nb * nb * m2a)) / (n * n) +
      (4 * d * (na * m3b - nb * m3a)) / n;
    this.m3 += m3b + (d2 * d * na * nb * (na - nb)) / (n * n) + (3 * d * (na * m2b - nb * m2a)) / n;
    this.m2 += m2b + (d2 * na * nb) / n;
    this.mean += (d * nb) / n;
    this.n = n;
  }

  result(percentiles: readonly number[] = PERCENTILES): StatsResult {
    const n = this.n;
    const histogram = this.hist.result();
    if (n === 0)
      return { count: 0, min: 0, max: 0, mean: 0, std: 0, kurtosis: 0, outlierRatio: 0, percentiles: [], histogram };
    const variance = this.m2 / n;
    const std = Math.sqrt(variance);
    const kurtosis = variance > 0 ? (n * this.m4) / (this.m2 * this.m2) - 3 : 0;
    const top = this.top.values();
    const bottom = this.bottom.values();
    const sorted = this.sample.sorted();
    const complete = this.sample.complete;
    // The k-th smallest value (0-based) when some exact source holds it.
    const exactAt = (k: number): number | undefined => {
      if (complete) return sorted[k];
      if (k < bottom.length) return bottom[k];
      if (n - 1 - k < top.length) return top[n - 1 - k];
      return undefined;
    };
    const pct = percentiles.map((p): Percentile => {
      const r = (p / 100) * (n - 1);
      const lo = Math.floor(r);
      const w = r - lo;
      const a = exactAt(lo);
      const b = w > 0 ? exactAt(Math.min(lo + 1, n - 1)) : a;
      if (a !== undefined && b !== undefined) return { p, value: a + w * (b - a), exact: true };
      return { p, value: sampleQuantile(sorted, p / 100), exact: false };
    });
    const hiT = this.mean + OUTLIER_SIGMAS * std;
    const loT = this.mean - OUTLIER_SIGMAS * std;
    const above = tailCount(
      top,
      (v) => v > hiT,
      n,
      () => countAbove(histogram, hiT),
    );
    const below = tailCount(
      bottom,
      (v) => v < loT,
      n,
      () => countBelow(histogram, loT),
    );
    return {
      count: n,
      min: this.min,
      max: this.max,
      mean: this.mean,
      std,
      kurtosis,
      outlierRatio: std > 0 ? (above + below) / n : 0,
      percentiles: pct,
      histogram,
    };
  }
}

/**
 * Values beyond a threshold: exact from the kept extremes when they are all kept (n ≤ k) or when at least one
 * kept value is inside the threshold; otherwise more than k are beyond and the histogram estimates the count.
 */
function tailCount(kept: number[], beyond: (v: number) => boolean, n: number, estimate: () => number): number {
  const c = kept.filter(beyond).length;
  return c < kept.length || kept.length >= n ? c : Math.max(c, estimate());
}

/** Linear-interpolation quantile of an ascending sample. */
export function sampleQuantile(sorted: Float32Array, q: number): number {
  if (sorted.length === 0) return 0;
  const r = q * (sorted.length - 1);
  const lo = Math.floor(r);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (r - lo) * (sorted[hi]! - sorted[lo]!);
}
