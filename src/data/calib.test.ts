import { describe, expect, it } from 'vitest';
import { QuantlensError } from '../errors.js';
import { calibrationIndices, limitIndices, mulberry32 } from './calib.js';

describe('calibrationIndices', () => {
  it('is deterministic for a seed and pinned across versions', () => {
    expect(calibrationIndices(1000, 8, 42)).toEqual(calibrationIndices(1000, 8, 42));
    // Pinned: a seed must name the same subset on every machine and release.
    expect(calibrationIndices(100, 6, 0)).toEqual(PINNED);
  });

  it('differs across seeds', () => {
    const a = calibrationIndices(10_000, 64, 1);
    const b = calibrationIndices(10_000, 64, 2);
    expect(a).not.toEqual(b);
    expect(calibrationIndices(10_000, 64, 2 ** 32 + 1)).not.toEqual(a); // high bits are not dropped
  });

  it('returns n distinct in-range indices; n = size is a permutation', () => {
    const s = calibrationIndices(50_000, 1024, 7);
    expect(new Set(s).size).toBe(1024);
    expect(s.every((i) => Number.isInteger(i) && i >= 0 && i < 50_000)).toBe(true);
    expect([...calibrationIndices(100, 100, 3)].sort((x, y) => x - y)).toEqual(
      Array.from({ length: 100 }, (_, i) => i),
    );
  });

  it('picks every item about equally often', () => {
    const counts = new Array<number>(10).fill(0);
    for (let seed = 0; seed < 5000; seed++) for (const i of calibrationIndices(10, 2, seed)) counts[i]!++;
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(150);
  });

  it('rejects n > size, n < 1 and bad seeds with a usage error', () => {
    expect(() => calibrationIndices(10, 11, 0)).toThrow(QuantlensError);
    expect(() => calibrationIndices(10, 11, 0)).toThrow(/--calib 11 asks for more items than the dataset has \(10\)/);
    expect(() => calibrationIndices(10, 0, 0)).toThrow(/--calib must be a positive integer/);
    expect(() => calibrationIndices(10, 2, -1)).toThrow(/--seed must be a non-negative integer/);
    expect(() => calibrationIndices(10, 2, 1.5)).toThrow(/--seed/);
  });
});

describe('mulberry32', () => {
  it('gives floats in [0, 1) reproducibly', () => {
    const a = mulberry32(9);
    const b = mulberry32(9);
    for (let i = 0; i < 1000; i++) {
      const v = a();
      expect(v).toBe(b());
      expect(v >= 0 && v < 1).toBe(true);
    }
  });
});

describe('limitIndices', () => {
  it('takes the first N, all when N exceeds the size', () => {
    expect(limitIndices(10, 3)).toEqual([0, 1, 2]);
    expect(limitIndices(2, 5)).toEqual([0, 1]);
    expect(() => limitIndices(10, 0)).toThrow(/--limit must be a positive integer/);
  });
});

const PINNED = [26, 1, 23, 17, 48, 56];
