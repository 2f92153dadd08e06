import { describe, expect, it } from 'vitest';
import { QuantlensError } from '../../errors.js';
import { fakeQuantUniform } from '../quantizers.js';
import { randn, rng } from '../test-helpers.js';
import { MinMaxObserver } from './minmax.js';
import type { ObserverOptions } from './types.js';

const f32 = Math.fround;

function calibrate(opts: ObserverOptions, ...batches: [number[] | Float32Array, number[]][]) {
  const o = new MinMaxObserver(opts);
  for (const [data, dims] of batches) o.observe(Float32Array.from(data), dims);
  return o.compute();
}

describe('minmax observer', () => {
  it('default: range widened to contain 0, δ = (hi − lo)/(2^b − 1), z = round(−lo/δ)', () => {
    const p = calibrate({ bits: 8 }, [[-1, 0.5, 2], [3]]);
    expect(p).toMatchObject({ kind: 'uniform', axis: null, qmin: 0, qmax: 255, zeroPoint: [85] });
    expect(p.scale).toEqual([f32(3 / 255)]);
  });

  it('all-positive data: default includes 0; qdiff keeps Q-Diffusion’s raw-range quirk (z = 0, top clipped)', () => {
    const data: [number[], number[]] = [[2, 2.5, 3], [3]];
    const def = calibrate({ bits: 4 }, data);
    expect(def.scale).toEqual([f32(0.2)]);
    expect(def.zeroPoint).toEqual([0]);
    const q = calibrate({ bits: 4, rangeMode: 'qdiff' }, data);
    expect(q.scale).toEqual([f32(1 / 15)]);
    expect(q.zeroPoint).toEqual([0]);
    // The grid covers [0, max − min] = [0, 1]: every value saturates at 1.
    expect(Array.from(fakeQuantUniform(Float32Array.from([2, 3]), [2], q))).toEqual([1, 1]);
    // All-negative data puts the qdiff zero-point above the grid (round(3/(1/15)) = 45).
    expect(calibrate({ bits: 4, rangeMode: 'qdiff' }, [[-3, -2], [2]]).zeroPoint).toEqual([45]);
    expect(calibrate({ bits: 4 }, [[-3, -2], [2]]).zeroPoint).toEqual([15]);
  });

  it('symmetric: δ = absmax/(2^(b−1) − 1) on the signed grid', () => {
    const p = calibrate({ bits: 8, symmetric: true }, [[-1, 0.5, 2], [3]]);
    expect(p).toMatchObject({ qmin: -128, qmax: 127, zeroPoint: [0], scale: [f32(2 / 127)] });
  });

  it('constant and all-zero tensors give finite params (δ ≥ 1e-8)', () => {
    expect(calibrate({ bits: 8 }, [[0, 0], [2]])).toMatchObject({ scale: [f32(1e-8)], zeroPoint: [0] });
    expect(calibrate({ bits: 8 }, [[5, 5], [2]])).toMatchObject({ scale: [f32(5 / 255)], zeroPoint: [0] });
    expect(calibrate({ bits: 8, rangeMode: 'qdiff' }, [[5, 5], [2]])).toMatchObject({ scale: [f32(1e-8)] });
    expect(calibrate({ bits: 4, symmetric: true }, [[0], [1]])).toMatchObject({ scale: [f32(1e-8)], zeroPoint: [0] });
  });

  it('streams: batches give the same result as one concatenated batch, per channel on the last axis', () => {
    const rand = rng(41);
    const a = randn(rand, 2 * 3 * 4);
    const b = randn(rand, 5 * 3 * 4, 3);
    const both = new Float32Array([...a, ...b]);
    const opts = { bits: 6, axis: -1 };
    expect(calibrate(opts, [a, [2, 3, 4]], [b, [5, 3, 4]])).toEqual(calibrate(opts, [both, [7, 3, 4]]));
  });

  it('optionally tracks an EMA of the range (Q-Diffusion running stat)', () => {
    const p = calibrate({ bits: 8, momentum: 0.9 }, [[-1, 1], [2]], [[-11, 11], [2]]);
    // min: 0.9·(−1) + 0.1·(−11) = −2, max 2 → δ = 4/255.
    expect(p.scale[0]).toBeCloseTo(4 / 255, 7);
  });

  it('zero-points are integers in range and calibration data reconstructs within δ/2 (random, any axis)', () => {
    const rand = rng(42);
    const dims = [4, 3, 5];
    const bad: string[] = [];
    for (let t = 0; t < 40; t++) {
      const bits = 2 + (t % 7);
      const axis = [null, 0, 1, 2][t % 4]!;
      const shift = [0, 3, -3][t % 3]!; // mixed, all-positive and all-negative data
      const x = randn(rand, 60, 1 + rand() * 5, shift * 4);
      const p = calibrate({ bits, axis }, [x, dims]);
      if (!p.zeroPoint.every((z) => Number.isInteger(z) && z >= p.qmin && z <= p.qmax)) bad.push(`z ${t}`);
      const xq = fakeQuantUniform(x, dims, p);
      const maxScale = Math.max(...p.scale);
      for (let i = 0; i < x.length; i++) {
        if (Math.abs(x[i]! - xq[i]!) > (maxScale / 2) * (1 + 1e-5)) bad.push(`err ${t}:${i}`);
      }
    }
    expect(bad.slice(0, 5)).toEqual([]);
  });

  it('reports bad data and misuse as typed errors', () => {
    expect(() => calibrate({ bits: 8 }, [[1, NaN], [2]])).toThrow(/NaN.*index 1/);
    expect(() => calibrate({ bits: 8, axis: 0 }, [[1, 2], [2]], [[1, 2, 3], [3]])).toThrow(/channels/);
    expect(() => new MinMaxObserver({ bits: 8 }).compute()).toThrow(/no calibration data/);
    expect(() => new MinMaxObserver({ bits: 8, momentum: 1 })).toThrow(QuantlensError);
    expect(() => new MinMaxObserver({ bits: 8, percentile: 99 })).toThrow(/does not support option 'percentile'/);
    expect(() => new MinMaxObserver({ bits: 1 })).toThrow(/2 to 16/);
  });
});
