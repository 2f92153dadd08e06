import { describe, expect, it } from 'vitest';
import { quantile } from '../quantile.js';
import { channelSlice, randn, rng } from '../test-helpers.js';
import { includeZeroAffine } from './common.js';
import { MinMaxObserver } from './minmax.js';
import { PercentileObserver } from './percentile.js';

describe('percentile observer', () => {
  it('single batch: min-max on [q(1 − p), q(p)] with torch quantiles', () => {
    const x = randn(rng(51), 5000);
    const o = new PercentileObserver({ bits: 8, percentile: 99.9 });
    o.observe(x, [5000]);
    const a = includeZeroAffine(quantile(x, 1 - 0.999), quantile(x, 0.999), 8);
    expect(o.compute()).toMatchObject({ scale: [a.scale], zeroPoint: [a.zeroPoint], qmin: 0, qmax: 255 });
  });

  it('clips an outlier that min-max would keep', () => {
    const x = randn(rng(52), 100000);
    x[7] = 1000;
    const p = new PercentileObserver({ bits: 8 });
    const m = new MinMaxObserver({ bits: 8 });
    p.observe(x, [x.length]);
    m.observe(x, [x.length]);
    expect(p.compute().scale[0]!).toBeLessThan(m.compute().scale[0]! / 50);
  });

  it('averages per-batch quantiles weighted by batch size', () => {
    const rand = rng(53);
    const a = randn(rand, 100);
    const b = randn(rand, 300, 2);
    const o = new PercentileObserver({ bits: 8, percentile: 99, symmetric: true });
    o.observe(a, [100]);
    o.observe(b, [300]);
    const lo = (100 * quantile(a, 0.01) + 300 * quantile(b, 0.01)) / 400;
    const hi = (100 * quantile(a, 0.99) + 300 * quantile(b, 0.99)) / 400;
    expect(o.compute().scale[0]).toBe(Math.fround(Math.max(-lo, hi) / 127));
  });

  it('per channel equals per tensor on each slice; zero-points integer and in range', () => {
    const dims = [8, 6, 5];
    const x = randn(rng(54), 240, 1, 0.5);
    const o = new PercentileObserver({ bits: 4, axis: 1 });
    o.observe(x, dims);
    const p = o.compute();
    for (let c = 0; c < 6; c++) {
      const s = new PercentileObserver({ bits: 4 });
      s.observe(channelSlice(x, dims, 1, c), [40]);
      const pc = s.compute();
      expect([p.scale[c], p.zeroPoint[c]]).toEqual([pc.scale[0], pc.zeroPoint[0]]);
      expect(Number.isInteger(p.zeroPoint[c]) && p.zeroPoint[c]! >= 0 && p.zeroPoint[c]! <= 15).toBe(true);
    }
  });

  it('rejects a percentile outside (50, 100]', () => {
    expect(() => new PercentileObserver({ bits: 8, percentile: 0.9999 })).toThrow(/\(50, 100\]/);
  });
});
