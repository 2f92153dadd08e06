// Test-only helpers for src/quant: a seeded PRNG and random tensors, so property tests are reproducible.
// Not imported by library code.

/** mulberry32: a tiny 32-bit seeded generator, uniform in [0, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples (Box–Muller). */
export function randn(rand: () => number, n: number, std = 1, mean = 0): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = 1 - rand();
    const v = rand();
    out[i] = mean + std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  return out;
}

/** Uniform samples in [lo, hi). */
export function uniform(rand: () => number, n: number, lo: number, hi: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rand();
  return out;
}

/** Rows of softmax over random logits: attention-probability-like data, shape [rows, cols]. */
export function softmaxRows(rand: () => number, rows: number, cols: number, temperature = 3): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const logits = randn(rand, cols, temperature);
    let max = -Infinity;
    for (const v of logits) max = Math.max(max, v);
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += out[r * cols + c] = Math.exp(logits[c]! - max);
    for (let c = 0; c < cols; c++) out[r * cols + c]! /= sum;
  }
  return out;
}

/** Slice `c` along `axis` of a row-major tensor, as a new array (test reference for per-channel code). */
export function channelSlice(x: Float32Array, dims: readonly number[], axis: number, c: number): Float32Array {
  const outer = dims.slice(0, axis).reduce((a, b) => a * b, 1);
  const channels = dims[axis]!;
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out: number[] = [];
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) out.push(x[(o * channels + c) * inner + i]!);
  return Float32Array.from(out);
}

/**
 * Index of the first element where `a` and `b` differ (bitwise value equality, NaN equal to NaN), −1 when equal,
 * −2 on a length mismatch. Faster and quieter than a deep-equality matcher on large arrays.
 */
export function firstMismatch(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return -2;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i]) && a[i] !== b[i]) return i;
  return -1;
}
