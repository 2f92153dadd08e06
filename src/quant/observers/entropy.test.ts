import { describe, expect, it } from 'vitest';
import { fakeQuantUniform } from '../quantizers.js';
import { randn, rng, uniform } from '../test-helpers.js';
import { EntropyObserver, klThresholdBins } from './entropy.js';

describe('entropy observer (TensorRT-style KL calibration)', () => {
  it('keeps the full range of a flat histogram and clips a far, rare tail', () => {
    expect(klThresholdBins(new Float64Array(2048).fill(10), 128)).toBe(2048);
    const h = new Float64Array(2048);
    for (let b = 0; b < 200; b++) h[b] = 1000 * Math.exp(-b / 40);
    h[2047] = 1;
    const i = klThresholdBins(h, 128);
    expect(i).toBeGreaterThanOrEqual(128);
    expect(i).toBeLessThan(600);
    expect(klThresholdBins(h, 4096)).toBe(2048); // more levels than bins: nothing to clip
  });

  it('clips a Gaussian inside its absmax; signed data uses z = 2^(b−1), symmetric uses z = 0', () => {
    const x = randn(rng(91), 50000);
    const absmax = Math.max(...x.map(Math.abs));
    const asym = new EntropyObserver({ bits: 8 });
    asym.observe(x, [50000]);
    const p = asym.compute();
    expect(p).toMatchObject({ qmin: 0, qmax: 255, zeroPoint: [128] });
    const t = p.scale[0]! * 127;
    expect(t).toBeGreaterThan(2.5);
    expect(t).toBeLessThan(absmax);
    const sym = new EntropyObserver({ bits: 8, symmetric: true });
    sym.observe(x, [50000]);
    expect(sym.compute()).toMatchObject({ qmin: -128, qmax: 127, zeroPoint: [0] });
  });

  it('uses the unsigned grid with z = 0 for never-negative data', () => {
    const x = randn(rng(92), 20000).map((v) => Math.max(v, 0));
    const o = new EntropyObserver({ bits: 4 });
    o.observe(x, [20000]);
    expect(o.compute()).toMatchObject({ qmin: 0, qmax: 15, zeroPoint: [0] });
  });

  it('streams: the histogram grows by merging bins when a later batch has a wider range', () => {
    const rand = rng(93);
    const o = new EntropyObserver({ bits: 8 });
    o.observe(uniform(rand, 1000, -1, 1), [1000]);
    o.observe(uniform(rand, 100000, -4, 4), [100000]);
    const p = o.compute();
    const t = p.scale[0]! * 127;
    expect(t).toBeGreaterThan(3.5); // the bulk of the data is the wide batch, which is flat up to 4
    expect(t).toBeLessThanOrEqual(4 * 1.01);
    const xq = fakeQuantUniform(Float32Array.of(3.9), [1], p);
    expect(Math.abs(xq[0]! - 3.9)).toBeLessThan(p.scale[0]!);
  });

  it('all-zero data gives finite params; per-channel is refused', () => {
    const o = new EntropyObserver({ bits: 8 });
    o.observe(new Float32Array(10), [10]);
    expect(o.compute()).toMatchObject({ scale: [Math.fround(1e-8)], zeroPoint: [0] });
    expect(() => new EntropyObserver({ bits: 8, axis: 0 })).toThrow(/per tensor/);
  });
});
