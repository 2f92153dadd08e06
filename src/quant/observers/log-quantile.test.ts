import { describe, expect, it } from 'vitest';
import { fakeQuantLog } from '../log-quantizers.js';
import { makeLogParams, type LogParams } from '../qparams.js';
import { quantiles } from '../quantile.js';
import { rng, softmaxRows } from '../test-helpers.js';
import { LogQuantileObserver } from './log-quantile.js';

/** The search of repq-vit.md §2.2 written out with the public primitives. */
function reference(x: Float32Array, kind: LogParams['kind'], bits: number): number {
  let best = NaN;
  let bestScore = Infinity;
  for (const delta of quantiles(x, [0.999, 0.9999, 0.99999])) {
    const xq = fakeQuantLog(x, makeLogParams(kind, bits, delta));
    let mse = 0;
    for (let i = 0; i < x.length; i++) mse += (xq[i]! - x[i]!) ** 2;
    if (mse / x.length < bestScore) {
      bestScore = mse / x.length;
      best = Math.fround(delta);
    }
  }
  return best;
}

describe('log2 / logsqrt2 observers', () => {
  it('choose δ among the three upper quantiles by mean squared error, first strictly best', () => {
    const rand = rng(71);
    for (const kind of ['logsqrt2', 'log2'] as const) {
      for (const bits of [3, 4, 6]) {
        const x = softmaxRows(rand, 32, 64, 1 + bits / 2);
        const o = new LogQuantileObserver(kind, { bits });
        o.observe(x, [2, 16, 64]);
        const p = o.compute();
        expect(p).toEqual({ kind, bits, scale: reference(x, kind, bits) });
      }
    }
  });

  it('gives an all-zero tensor a finite scale and zero output', () => {
    const o = new LogQuantileObserver('logsqrt2', { bits: 4 });
    o.observe(new Float32Array(100), [100]);
    const p = o.compute();
    expect(p.scale).toBe(Math.fround(1e-8));
    expect(fakeQuantLog(new Float32Array(3), p)).toEqual(new Float32Array(3));
  });

  it('calibrate on the first batch only and are per tensor', () => {
    const o = new LogQuantileObserver('log2', { bits: 4 });
    o.observe(softmaxRows(rng(72), 4, 10), [4, 10]);
    const first = o.compute();
    o.observe(new Float32Array(40).fill(0.9), [4, 10]);
    expect(o.compute()).toEqual(first);
    expect(() => new LogQuantileObserver('log2', { bits: 4, axis: 0 })).toThrow(/does not support option 'axis'/);
  });
});
