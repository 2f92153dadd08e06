import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mulberry32 } from '../data/calib.js';
import { gaussianStats, loadStats, saveStats, StreamingStats } from './feature-stats.js';

function data(rows: number, dim: number, seed: number, offset = 0): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: rows * dim }, (_, i) => offset + r() * (1 + (i % dim)));
}

describe('StreamingStats', () => {
  it('gives the same statistics batch by batch as in one go', () => {
    const x = data(103, 6, 1, 1e4); // a large offset: raw sums of squares would lose digits here
    const once = gaussianStats(x, 103, 6);
    const s = new StreamingStats(6);
    for (const [lo, hi] of [
      [0, 1],
      [1, 40],
      [40, 40],
      [40, 103],
    ] as const)
      s.add(x.subarray(lo * 6, hi * 6), hi - lo);
    const batched = s.finish();
    expect(batched.n).toBe(103);
    once.mu.forEach((v, i) => expect(batched.mu[i]).toBeCloseTo(v, 9));
    once.sigma.forEach((v, i) => expect(batched.sigma[i]).toBeCloseTo(v, 9));
  });

  it('matches a direct two-pass computation (unbiased covariance)', () => {
    const rows = 50;
    const dim = 3;
    const x = data(rows, dim, 2);
    const s = gaussianStats(x, rows, dim);
    const mu = [0, 1, 2].map(
      (j) => Array.from({ length: rows }, (_, r) => x[r * dim + j]!).reduce((a, b) => a + b) / rows,
    );
    for (let i = 0; i < dim; i++)
      for (let j = 0; j < dim; j++) {
        let c = 0;
        for (let r = 0; r < rows; r++) c += (x[r * dim + i]! - mu[i]!) * (x[r * dim + j]! - mu[j]!);
        expect(s.sigma[i * dim + j]).toBeCloseTo(c / (rows - 1), 12);
      }
  });

  it('needs two vectors and finite features', () => {
    expect(() => gaussianStats(Float32Array.of(1, 2), 1, 2)).toThrow(/at least 2/);
    expect(() => gaussianStats(Float32Array.of(1, NaN, 2, 3), 2, 2)).toThrow(/NaN/);
  });

  it('round-trips through an NPZ file', () => {
    const s = gaussianStats(data(20, 4, 3), 20, 4);
    const path = join(mkdtempSync(join(tmpdir(), 'ql-stats-')), 'ref.npz');
    saveStats(path, s);
    const back = loadStats(path);
    expect(back.n).toBe(20);
    expect(Array.from(back.mu)).toEqual(Array.from(s.mu));
    expect(Array.from(back.sigma)).toEqual(Array.from(s.sigma));
  });
});
