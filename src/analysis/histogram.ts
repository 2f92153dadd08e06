// A streaming histogram whose range grows with the data: the range is unknown until the last batch, so the bins
// start on the first batch's range and, when a value falls outside, the bin width doubles (neighbouring bins
// merge, counts stay exact) until it fits. Memory is the bin array, whatever the data size. The final range is
// at most about 4x wider than the data's, so with 256 bins at least ~64 hold data. Imports nothing but types.

import type { Histogram } from './types.js';

export const DEFAULT_BINS = 256;

export class GrowingHistogram {
  private counts: Float64Array;
  private lo = 0;
  private width = 0;
  private started = false;

  constructor(private readonly bins = DEFAULT_BINS) {
    if (bins < 2 || bins % 2 !== 0) throw new RangeError(`bins must be even and >= 2, got ${bins}`);
    this.counts = new Float64Array(bins);
  }

  /** Adds finite values; `min`/`max` of the batch are passed in because the caller computed them already. */
  add(x: Float32Array, min: number, max: number): void {
    if (x.length === 0) return;
    if (!this.started) {
      this.started = true;
      const span = max - min;
      // A constant first batch still needs a positive width; relative to the value so it scales with the data.
      this.width = span > 0 ? span / this.bins : Math.max(Math.abs(min), 1) * 1e-6;
      this.lo = span > 0 ? min : min - (this.width * this.bins) / 2;
    }
    // The slack absorbs float rounding of lo + width·bins; values within it are clamped into the edge bins.
    while (min < this.lo - this.width * 1e-6) this.growDown();
    while (max > this.hiEdge() + this.width * 1e-6) this.growUp();
    const { lo, width, bins, counts } = this;
    const inv = 1 / width;
    for (let i = 0; i < x.length; i++) {
      let b = Math.floor((x[i]! - lo) * inv);
      if (b >= bins) b = bins - 1;
      else if (b < 0) b = 0;
      counts[b]!++;
    }
  }

  private hiEdge(): number {
    return this.lo + this.width * this.bins;
  }

  // Old bins i map to floor(i/2): the range keeps its low edge and doubles upward.
  private growUp(): void {
    const c = this.counts;
    const half = this.bins / 2;
    for (let i = 0; i < half; i++) c[i] = c[2 * i]! + c[2 * i + 1]!;
    c.fill(0, half);
    this.width *= 2;
  }

  // Old bins i map to half + floor(i/2): the range keeps its high edge and doubles downward.
  private growDown(): void {
    const c = this.counts;
    const half = this.bins / 2;
    for (let i = half - 1; i >= 0; i--) c[half + i] = c[2 * i]! + c[2 * i + 1]!;
    c.fill(0, 0, half);
    this.lo -= this.width * this.bins;
    this.width *= 2;
  }

  /** The histogram with empty bins at both ends trimmed. */
  result(): Histogram {
    const c = this.counts;
    let first = 0;
    let last = this.bins - 1;
    while (first < last && c[first] === 0) first++;
    while (last > first && c[last] === 0) last--;
    if (!this.started) return { lo: 0, width: 0, counts: [] };
    return { lo: this.lo + first * this.width, width: this.width, counts: Array.from(c.subarray(first, last + 1)) };
  }
}

/** Estimated count of histogram values above `t` (linear inside the bin that holds t). */
export function countAbove(h: Histogram, t: number): number {
  let n = 0;
  for (let i = 0; i < h.counts.length; i++) {
    const a = h.lo + i * h.width;
    const b = a + h.width;
    const c = h.counts[i]!;
    if (a >= t) n += c;
    else if (b > t) n += (c * (b - t)) / h.width;
  }
  return n;
}

/** Estimated count of histogram values below `t`. */
export function countBelow(h: Histogram, t: number): number {
  const total = h.counts.reduce((s, c) => s + c, 0);
  return total - countAbove(h, t);
}
