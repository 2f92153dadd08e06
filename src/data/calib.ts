// Seeded calibration subsets (`--calib N --seed S`) and `--limit N`. The generator is ours (mulberry32), not
// Math.random, so a seed names the same subset on every machine and Node version.

import { usageError } from '../errors.js';

/** mulberry32: a tiny 32-bit generator with good enough statistics for sampling; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function checkSeed(seed: number): number {
  if (!Number.isSafeInteger(seed) || seed < 0) throw usageError(`--seed must be a non-negative integer, got ${seed}`);
  // Fold the high bits in so that seeds above 2^32 do not alias their low 32 bits.
  return (seed >>> 0) ^ Math.imul(Math.floor(seed / 4294967296) >>> 0, 0x9e3779b9);
}

/**
 * `n` distinct indices of `0..size-1`, chosen uniformly by a seeded partial Fisher-Yates shuffle. They come in
 * shuffled order, not sorted, so that consecutive calibration batches mix classes (ImageFolder indices are
 * grouped by class). Memory is O(n): only displaced positions are remembered.
 */
export function calibrationIndices(size: number, n: number, seed: number): number[] {
  if (!Number.isInteger(n) || n < 1) throw usageError(`--calib must be a positive integer, got ${n}`);
  if (n > size)
    throw usageError(
      `--calib ${n} asks for more items than the dataset has (${size})`,
      `use --calib ${size} or fewer, or a larger dataset`,
    );
  const rand = mulberry32(checkSeed(seed));
  const moved = new Map<number, number>(); // position -> value, for positions the shuffle has swapped
  const at = (i: number) => moved.get(i) ?? i;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(rand() * (size - i));
    const vj = at(j);
    moved.set(j, at(i));
    out[i] = vj;
  }
  return out;
}

/** `--limit N`: the first N indices in dataset order (all of them when N exceeds the size). */
export function limitIndices(size: number, limit: number): number[] {
  if (!Number.isInteger(limit) || limit < 1) throw usageError(`--limit must be a positive integer, got ${limit}`);
  return Array.from({ length: Math.min(size, limit) }, (_, i) => i);
}
