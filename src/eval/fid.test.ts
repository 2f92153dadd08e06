import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readNpz } from '../data/npz.js';
import { gaussianStats, type GaussianStats } from './feature-stats.js';
import { fidParts, frechetDistance } from './fid.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const features = readNpz(here('./testdata/fid-features.npz'));
const reference = JSON.parse(readFileSync(here('./testdata/fid-reference.json'), 'utf8')) as {
  sets: Record<string, { n: number; dim: number; muSquaredNorm: number; sigmaTrace: number; sigmaFrobenius: number }>;
  pairs: { a: string; b: string; fid: number }[];
};

function statsOf(name: string): GaussianStats {
  const t = features.get(name)!;
  return gaussianStats(t.data as Float32Array, t.dims[0]!, t.dims[1]!);
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('FID vs scipy (tools/fid_reference.py, committed results)', () => {
  it('has the same mean and covariance as numpy', () => {
    for (const [name, want] of Object.entries(reference.sets)) {
      const s = statsOf(name);
      expect(s.n).toBe(want.n);
      expect(
        rel(
          s.mu.reduce((a, v) => a + v * v, 0),
          want.muSquaredNorm,
        ),
      ).toBeLessThan(1e-9);
      let tr = 0;
      let fro = 0;
      for (let i = 0; i < s.dim; i++) tr += s.sigma[i * s.dim + i]!;
      for (const v of s.sigma) fro += v * v;
      expect(rel(tr, want.sigmaTrace)).toBeLessThan(1e-9);
      expect(rel(Math.sqrt(fro), want.sigmaFrobenius)).toBeLessThan(1e-9);
    }
  });

  for (const pair of reference.pairs) {
    it(`FID(${pair.a}, ${pair.b}) agrees within 0.1%`, () => {
      const fid = frechetDistance(statsOf(pair.a), statsOf(pair.b));
      if (pair.a === pair.b) expect(Math.abs(fid)).toBeLessThan(1e-9);
      else expect(rel(fid, pair.fid)).toBeLessThan(1e-3);
    });
  }

  it('splits into the mean and covariance terms, and is symmetric', () => {
    const a = statsOf('a');
    const b = statsOf('b');
    const p = fidParts(a, b);
    expect(p.meanTerm + p.covTerm).toBeCloseTo(p.fid, 12);
    expect(p.meanTerm).toBeGreaterThan(0);
    expect(frechetDistance(b, a)).toBeCloseTo(p.fid, 8);
  });

  it('refuses statistics of different feature sizes', () => {
    expect(() => frechetDistance(statsOf('a'), statsOf('c'))).toThrow(/feature sizes differ/);
  });
});
