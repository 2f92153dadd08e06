import { describe, expect, it } from 'vitest';
import { makeUniformParams } from '../qparams.js';
import { fakeQuantUniform } from '../quantizers.js';
import { channelSlice, randn, rng, uniform } from '../test-helpers.js';
import { rawAffine } from './common.js';
import { MseRangeObserver } from './mse-range.js';
import type { ObserverOptions } from './types.js';

function calibrate(x: Float32Array, dims: number[], opts: ObserverOptions) {
  const o = new MseRangeObserver(opts);
  o.observe(x, dims);
  return o.compute();
}

/** Q-Diffusion's 'mse' init written out from q-diffusion.md §2 (raw min/max, 80 shrinking candidates, L2.4). */
function reference(x: Float32Array, bits: number) {
  const min = Math.min(...x);
  const max = Math.max(...x);
  let best = { scale: NaN, zeroPoint: NaN };
  let bestScore = Infinity;
  for (let i = 0; i < 80; i++) {
    const cand = rawAffine(min * (1 - 0.01 * i), max * (1 - 0.01 * i), bits);
    const p = makeUniformParams({
      bits,
      symmetric: false,
      axis: null,
      scale: [cand.scale],
      zeroPoint: [cand.zeroPoint],
    });
    const xq = fakeQuantUniform(x, [x.length], p);
    let score = 0;
    for (let k = 0; k < x.length; k++) score += Math.abs(x[k]! - xq[k]!) ** 2.4;
    if (score / x.length < bestScore) {
      bestScore = score / x.length;
      best = cand;
    }
  }
  return best;
}

describe('mse-range observer (Q-Diffusion 80-candidate L2.4 search)', () => {
  it('matches the reference search on mixed-sign data, where both range modes agree', () => {
    const rand = rng(81);
    for (let t = 0; t < 8; t++) {
      const x = randn(rand, 300, 1, 0.3);
      x[t] = 9; // an outlier worth clipping
      const bits = [2, 3, 4, 8][t % 4]!;
      const r = reference(x, bits);
      for (const rangeMode of ['include-zero', 'qdiff'] as const) {
        const p = calibrate(x, [300], { bits, rangeMode });
        expect([p.scale[0], p.zeroPoint[0]]).toEqual([r.scale, r.zeroPoint]);
      }
    }
  });

  it('per channel on axis 0 equals the search on each row; zero-points are integers in range', () => {
    const dims = [5, 40];
    const x = randn(rng(82), 200, 0.2);
    const p = calibrate(x, dims, { bits: 4, axis: 0 });
    for (let c = 0; c < 5; c++) {
      const pc = calibrate(channelSlice(x, dims, 0, c), [40], { bits: 4 });
      expect([p.scale[c], p.zeroPoint[c]]).toEqual([pc.scale[0], pc.zeroPoint[0]]);
    }
    expect(p.zeroPoint.every((z) => Number.isInteger(z) && z >= 0 && z <= 15)).toBe(true);
  });

  it('one-signed data: include-zero keeps z in range; qdiff reproduces the out-of-grid zero-point', () => {
    const x = uniform(rng(83), 400, 2, 3);
    const inc = calibrate(x, [400], { bits: 4 });
    expect(inc.zeroPoint[0]).toBe(0);
    const raw = calibrate(x, [400], { bits: 4, rangeMode: 'qdiff' });
    expect(raw.zeroPoint[0]!).toBeLessThan(-20);
    expect(raw.scale[0]!).toBeLessThan(inc.scale[0]!);
  });

  it('symmetric searches absmax on the signed grid', () => {
    const x = randn(rng(84), 300);
    const p = calibrate(x, [300], { bits: 4, symmetric: true });
    expect(p).toMatchObject({ qmin: -8, qmax: 7, zeroPoint: [0] });
    expect(p.scale[0]!).toBeLessThanOrEqual(Math.max(...x.map(Math.abs)) / 7 + 1e-7);
  });

  it('constant input gives finite params; only the first batch counts', () => {
    const o = new MseRangeObserver({ bits: 8, rangeMode: 'qdiff' });
    o.observe(new Float32Array(10).fill(3), [10]);
    const p = o.compute();
    expect(Array.from(fakeQuantUniform(new Float32Array(2).fill(3), [2], p))).toEqual([3, 3]);
    o.observe(randn(rng(85), 10), [10]);
    expect(o.compute()).toEqual(p);
    expect(o.firstBatchOnly).toBe(true);
  });
});
