// Bounded-memory views of an unbounded stream of values, for percentiles without keeping activations:
// - Reservoir: a uniform random sample of fixed size (Li's Algorithm L, which skips ahead geometrically, so a
//   batch of n values costs O(k·log(n/k)) draws instead of n), seeded so a report is reproducible;
// - Extremes: the k largest (or smallest) values exactly, for tail percentiles (99.99th) and outlier counts,
//   which a sample of any affordable size estimates badly.
// Imports the seeded generator of data/calib.ts and quant/select.ts.

import { mulberry32 } from '../data/calib.js';
import { selectInPlace } from '../quant/select.js';

export class Reservoir {
  private readonly buf: Float32Array;
  private filled = 0;
  private seen = 0;
  private next = -1;
  private w = 0;
  private readonly rand: () => number;

  constructor(
    readonly capacity: number,
    seed: number,
  ) {
    this.buf = new Float32Array(capacity);
    this.rand = mulberry32(seed);
  }

  // In (0, 1]: log() of it is finite.
  private u(): number {
    return 1 - this.rand();
  }

  private skip(): number {
    return Math.floor(Math.log(this.u()) / Math.log(1 - this.w));
  }

  add(x: Float32Array): void {
    const base = this.seen;
    const k = this.capacity;
    let i = 0;
    while (this.filled < k && i < x.length) this.buf[this.filled++] = x[i++]!;
    if (this.filled === k && this.next < 0) {
      this.w = Math.exp(Math.log(this.u()) / k);
      this.next = k + this.skip();
    }
    const end = base + x.length;
    while (this.next >= 0 && this.next < end) {
      this.buf[Math.floor(this.rand() * k)] = x[this.next - base]!;
      this.w *= Math.exp(Math.log(this.u()) / k);
      this.next += this.skip() + 1;
    }
    this.seen = end;
  }

  /** Every value seen, when they all fit. */
  get complete(): boolean {
    return this.seen <= this.capacity;
  }

  /** The sample, sorted ascending (a copy). */
  sorted(): Float32Array {
    return this.buf.slice(0, this.filled).sort();
  }
}

/** The `k` largest values seen (sign 1) or the `k` smallest (sign −1, stored negated). */
export class Extremes {
  private buf: Float32Array;
  private len = 0;
  /** values not above this (in signed terms) can no longer enter */
  private threshold = -Infinity;
  constructor(
    readonly k: number,
    private readonly sign: 1 | -1,
  ) {
    this.buf = new Float32Array(2 * k);
  }

  add(x: Float32Array): void {
    const s = this.sign;
    const t = this.threshold;
    for (let i = 0; i < x.length; i++) {
      const v = s * x[i]!;
      if (v > t) {
        this.buf[this.len++] = v;
        if (this.len === this.buf.length) this.compact();
      }
    }
  }

  // Keeps the k largest of the buffer: select rank len − k, keep what lies above it.
  private compact(): void {
    if (this.len <= this.k) return;
    const from = this.len - this.k;
    selectInPlace(this.buf, from, 0, this.len - 1);
    this.buf.copyWithin(0, from, this.len);
    this.len = this.k;
    let m = Infinity;
    for (let i = 0; i < this.len; i++) m = Math.min(m, this.buf[i]!);
    this.threshold = m;
  }

  /** The kept values in original units, most extreme first (largest first for sign 1, smallest first for −1). */
  values(): number[] {
    this.compact();
    const v = Array.from(this.buf.subarray(0, this.len)).sort((a, b) => b - a);
    return this.sign === 1 ? v : v.map((x) => -x);
  }
}
