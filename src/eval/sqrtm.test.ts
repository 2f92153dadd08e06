import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../data/calib.js';
import { matmul, sqrtPsd, symmetricEigen, traceSqrtProduct } from './sqrtm.js';

/** A seeded random orthogonal matrix (Gram–Schmidt of a random one). */
function orthogonal(n: number, seed: number): Float64Array {
  const r = mulberry32(seed);
  const q = Float64Array.from({ length: n * n }, () => r() - 0.5);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      let dot = 0;
      for (let k = 0; k < n; k++) dot += q[i * n + k]! * q[j * n + k]!;
      for (let k = 0; k < n; k++) q[i * n + k] = q[i * n + k]! - dot * q[j * n + k]!;
    }
    let norm = 0;
    for (let k = 0; k < n; k++) norm += q[i * n + k]! ** 2;
    for (let k = 0; k < n; k++) q[i * n + k] = q[i * n + k]! / Math.sqrt(norm);
  }
  return q;
}

/** Qᵀ diag(d) Q (rows of Q are the eigenvectors). */
function withEigen(q: Float64Array, d: number[]): Float64Array {
  const n = d.length;
  const a = new Float64Array(n * n);
  for (let k = 0; k < n; k++)
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) a[i * n + j] = a[i * n + j]! + d[k]! * q[k * n + i]! * q[k * n + j]!;
  return a;
}

const maxAbs = (a: Float64Array, b: Float64Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe('symmetricEigen', () => {
  it('finds the eigenvalues and orthonormal eigenvectors of a random symmetric matrix', () => {
    const n = 24;
    const r = mulberry32(3);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = r() * 2 - 1;
    const { values, vectors } = symmetricEigen(a, n);
    for (let k = 1; k < n; k++) expect(values[k]!).toBeGreaterThanOrEqual(values[k - 1]!);
    for (let k = 0; k < n; k++) {
      const v = vectors!.subarray(k * n, (k + 1) * n);
      for (let i = 0; i < n; i++) {
        let av = 0;
        for (let j = 0; j < n; j++) av += a[i * n + j]! * v[j]!;
        expect(Math.abs(av - values[k]! * v[i]!)).toBeLessThan(1e-12);
      }
      for (let l = 0; l <= k; l++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += v[i]! * vectors![l * n + i]!;
        expect(Math.abs(dot - (l === k ? 1 : 0))).toBeLessThan(1e-12);
      }
    }
  });

  it('recovers known eigenvalues, repeated and zero ones included', () => {
    const d = [0, 0, 1e-8, 0.5, 0.5, 0.5, 3, 7, 1e4];
    const { values } = symmetricEigen(withEigen(orthogonal(d.length, 11), d), d.length, false);
    values.forEach((v, i) => expect(Math.abs(v - d[i]!)).toBeLessThan(1e-11 * 1e4));
  });

  it('handles 1x1, diagonal and zero matrices, and rejects NaN', () => {
    expect(Array.from(symmetricEigen(Float64Array.of(4), 1).values)).toEqual([4]);
    expect(Array.from(symmetricEigen(Float64Array.of(3, 0, 0, 1), 2).values)).toEqual([1, 3]);
    expect(Array.from(symmetricEigen(new Float64Array(9), 3).values)).toEqual([0, 0, 0]);
    expect(() => symmetricEigen(Float64Array.of(1, NaN, NaN, 1), 2)).toThrow(/NaN/);
  });
});

describe('sqrtPsd', () => {
  it('returns the known root S of S·S (well-conditioned, singular, and ill-conditioned)', () => {
    for (const [seed, d] of [
      [1, [0.3, 1, 2, 5, 9, 0.01]],
      [2, [0, 0, 1, 4, 0, 2.5]],
      [5, Array.from({ length: 40 }, (_, i) => 10 ** (-3 + (5 * i) / 39))],
    ] as const) {
      const s = withEigen(orthogonal(d.length, seed), [...d]);
      const root = sqrtPsd(matmul(s, s, d.length), d.length);
      const scale = Math.max(...d);
      expect(maxAbs(root, s) / scale).toBeLessThan(1e-9);
    }
  });

  it('matches the scalar square root on diagonal matrices', () => {
    const r = sqrtPsd(Float64Array.of(4, 0, 0, 0, 9, 0, 0, 0, 0), 3);
    expect(Array.from(r)).toEqual([2, 0, 0, 0, 3, 0, 0, 0, 0]);
  });
});

describe('traceSqrtProduct', () => {
  it('is Σ √(a_i b_i) for commuting matrices', () => {
    const q = orthogonal(16, 9);
    const a = Array.from({ length: 16 }, (_, i) => 0.1 + i);
    const b = Array.from({ length: 16 }, (_, i) => (i % 3 === 0 ? 0 : 2 / (1 + i)));
    const want = a.reduce((s, v, i) => s + Math.sqrt(v * b[i]!), 0);
    // Zero eigenvalues come out as ±1e-15 and √ turns that into ~3e-8 each: the square root's own sensitivity.
    expect(Math.abs(traceSqrtProduct(withEigen(q, a), withEigen(q, b), 16) - want) / want).toBeLessThan(1e-7);
  });

  it('is symmetric in its arguments for non-commuting matrices', () => {
    const a = withEigen(
      orthogonal(12, 21),
      Array.from({ length: 12 }, (_, i) => 1 + i),
    );
    const b = withEigen(
      orthogonal(12, 22),
      Array.from({ length: 12 }, (_, i) => 0.5 + i * i),
    );
    expect(traceSqrtProduct(a, b, 12)).toBeCloseTo(traceSqrtProduct(b, a, 12), 9);
  });
});
