import { describe, expect, it } from 'vitest';
import { makeUniformParams } from '../qparams.js';
import { quantile } from '../quantile.js';
import { fakeQuantUniform } from '../quantizers.js';
import { channelSlice, randn, rng } from '../test-helpers.js';
import { rawAffine } from './common.js';
import { MseQuantileObserver } from './mse-quantile.js';

function calibrate(x: Float32Array, dims: number[], bits: number, axis: number | null = null) {
  const o = new MseQuantileObserver({ bits, axis });
  o.observe(x, dims);
  return o.compute();
}

/** RepQ-ViT's search written out directly from repq-vit.md §2.1 with the public primitives. */
function reference(x: Float32Array, bits: number) {
  let best = { scale: NaN, zeroPoint: NaN };
  let bestScore = Infinity;
  for (const p of [0.999, 0.9999, 0.99999]) {
    const cand = rawAffine(quantile(x, 1 - p), quantile(x, p), bits);
    const params = makeUniformParams({
      bits,
      symmetric: false,
      axis: null,
      scale: [cand.scale],
      zeroPoint: [cand.zeroPoint],
    });
    const xq = fakeQuantUniform(x, [x.length], params);
    let mse = 0;
    for (let i = 0; i < x.length; i++) mse += (xq[i]! - x[i]!) ** 2;
    mse /= x.length;
    if (mse < bestScore) {
      bestScore = mse;
      best = cand;
    }
  }
  return best;
}

describe('mse-quantile observer (RepQ-ViT §2.1)', () => {
  it('reproduces the spec example: data in [2, 3] at 4 bits gives δ = 0.0666…, z = −30', () => {
    // Values on the 4-bit grid of [2, 3]: any clipping only adds error, so the widest candidate (p = 0.99999)
    // wins and δ ≈ 1/15.
    const small = calibrate(
      Float32Array.from({ length: 16 }, (_, k) => 2 + k / 15),
      [16],
      4,
    );
    expect(small.scale[0]).toBeCloseTo(1 / 15, 5);
    expect(small.zeroPoint).toEqual([-30]);
    expect(small.qmin === 0 && small.qmax === 15).toBe(true);
    // Many values: clipping 0.1 % costs less than the coarser step, so p = 0.999 wins (δ = 0.998/15), z still −30.
    const many = calibrate(
      Float32Array.from({ length: 1001 }, (_, i) => 2 + i / 1000),
      [1001],
      4,
    );
    expect(many.scale[0]).toBeCloseTo(0.998 / 15, 6);
    expect(many.zeroPoint).toEqual([-30]);
  });

  it('picks the first strictly best of the three quantile candidates', () => {
    const rand = rng(61);
    for (let t = 0; t < 12; t++) {
      const x = randn(rand, 2000 + 500 * t, 1, t % 3);
      for (let i = 0; i < 3 + t; i++) x[Math.floor(rand() * x.length)] = (rand() - 0.3) * 40; // outliers
      const bits = [3, 4, 6, 8][t % 4]!;
      const p = calibrate(x, [x.length], bits);
      const r = reference(x, bits);
      expect([p.scale[0], p.zeroPoint[0]]).toEqual([r.scale, r.zeroPoint]);
    }
  });

  it('per channel on any axis equals the per-tensor search on each slice ([B, N, C] pools B·N tokens)', () => {
    const dims = [4, 25, 6];
    const rand = rng(62);
    const x = randn(rand, 600);
    for (let i = 0; i < 600; i += 6) x[i] = x[i]! * 20 + 5; // channel 0 of the last axis: wide and shifted
    for (const axis of [2, -1, 0, 1]) {
      const p = calibrate(x, dims, 4, axis);
      const a = axis < 0 ? axis + 3 : axis;
      expect(p.axis).toBe(a);
      for (let c = 0; c < dims[a]!; c++) {
        const pc = calibrate(channelSlice(x, dims, a, c), [dims.reduce((u, v) => u * v) / dims[a]!], 4);
        expect([p.scale[c], p.zeroPoint[c]]).toEqual([pc.scale[0], pc.zeroPoint[0]]);
      }
    }
  });

  it('gives a constant channel a defined scale that reproduces it exactly (no NaN)', () => {
    const x = Float32Array.from([0.7, 0.7, 0.7, 0, 0, 0, -2, -2, -2, 1, 2, 3]);
    const p = calibrate(x, [4, 3], 4, 0);
    expect(p.scale.every((s) => Number.isFinite(s) && s > 0)).toBe(true);
    expect(p.zeroPoint.slice(0, 3)).toEqual([-15, 0, 15]);
    expect(Array.from(fakeQuantUniform(x, [4, 3], p).subarray(0, 9))).toEqual(Array.from(x.subarray(0, 9)));
  });

  it('calibrates on the first batch only', () => {
    const o = new MseQuantileObserver({ bits: 4 });
    const x = randn(rng(63), 500);
    o.observe(x, [500]);
    const first = o.compute();
    o.observe(randn(rng(64), 500, 10), [500]);
    expect(o.firstBatchOnly).toBe(true);
    expect(o.batchesSeen).toBe(2);
    expect(o.compute()).toEqual(first);
  });

  it('is asymmetric only', () => {
    expect(() => new MseQuantileObserver({ bits: 4, symmetric: true })).toThrow(/asymmetric/);
  });
});
