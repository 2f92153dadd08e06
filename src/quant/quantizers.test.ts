import { describe, expect, it } from 'vitest';
import { QuantlensError } from '../errors.js';
import { makeUniformParams, uniformGrid, type UniformParams } from './qparams.js';
import { dequantizeUniform, fakeQuant, fakeQuantUniform, quantizeUniform, uniformErrorSum } from './quantizers.js';
import { channelSlice, randn, rng, uniform } from './test-helpers.js';

const f32 = Math.fround;

function randomParams(rand: () => number, bits: number, symmetric: boolean, axis: number | null, channels: number) {
  const n = axis === null ? 1 : channels;
  const { qmin, qmax } = uniformGrid(bits, symmetric);
  const scale = Array.from({ length: n }, () => 0.001 + rand() * 0.5);
  const zeroPoint = Array.from({ length: n }, () => (symmetric ? 0 : Math.round(qmin + rand() * (qmax - qmin))));
  return makeUniformParams({ bits, symmetric, axis, scale, zeroPoint });
}

/** Checks the core properties on one tensor; returns a list of violations (empty when all hold). */
function violations(x: Float32Array, dims: number[], p: UniformParams): string[] {
  const out: string[] = [];
  const xq = fakeQuantUniform(x, dims, p);
  const codes = quantizeUniform(x, dims, p);
  const dq = dequantizeUniform(codes, dims, p);
  const again = fakeQuantUniform(xq, dims, p);
  const axis = p.axis;
  const inner = axis === null ? 1 : dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channels = axis === null ? 1 : dims[axis]!;
  for (let i = 0; i < x.length; i++) {
    const c = axis === null ? 0 : Math.floor(i / inner) % channels;
    const s = p.scale[c]!;
    const z = p.zeroPoint[c]!;
    const q = codes[i]!;
    if (!(q >= p.qmin && q <= p.qmax && Number.isInteger(q))) out.push(`code ${q} at ${i}`);
    if (dq[i] !== xq[i]) out.push(`dequantize(quantize) ≠ fakeQuant at ${i}`);
    if (again[i] !== xq[i]) out.push(`not idempotent at ${i}`);
    const lo = (p.qmin - z) * s;
    const hi = (p.qmax - z) * s;
    const v = x[i]!;
    // Float32 arithmetic adds a few ulps of |x| on top of the half step (it matters at 16 bits).
    if (v >= lo && v <= hi && Math.abs(v - xq[i]!) > s / 2 + 4e-7 * Math.abs(v)) out.push(`error at ${i}`);
    if (v > hi && xq[i] !== f32(f32(p.qmax - z) * s)) out.push(`no saturation above at ${i}`);
    if (v < lo && xq[i] !== f32(f32(p.qmin - z) * s)) out.push(`no saturation below at ${i}`);
  }
  return out;
}

describe('uniform fake quantization', () => {
  it('rounds ties half to even: x/δ = 0.5, 1.5, 2.5, −0.5, −1.5 → 0, 2, 2, 0, −2', () => {
    const p = makeUniformParams({ bits: 8, symmetric: true, axis: null, scale: [0.25], zeroPoint: [0] });
    const x = Float32Array.from([0.5, 1.5, 2.5, -0.5, -1.5].map((v) => v * 0.25));
    expect(Array.from(quantizeUniform(x, [5], p))).toEqual([0, 2, 2, 0, -2]);
    expect(Array.from(fakeQuantUniform(x, [5], p))).toEqual([0, 0.5, 0.5, 0, -0.5]);
  });

  it('holds |x − x̂| ≤ δ/2 in range, codes in range, idempotence and saturation: any axis, 2–16 bits', () => {
    const rand = rng(7);
    const dims = [3, 4, 5];
    const bad: string[] = [];
    for (const bits of [2, 3, 4, 5, 6, 7, 8, 12, 16]) {
      for (const symmetric of [false, true]) {
        for (const axis of [null, 0, 1, 2]) {
          const p = randomParams(rand, bits, symmetric, axis, axis === null ? 1 : dims[axis]!);
          const s0 = p.scale[0]!;
          const x = randn(rand, 60, s0 * 2 ** (bits - 1));
          bad.push(...violations(x, dims, p).map((v) => `${bits}b sym=${symmetric} axis=${axis}: ${v}`));
        }
      }
    }
    expect(bad.slice(0, 10)).toEqual([]);
  });

  it('per-channel on an axis equals per-tensor on each slice', () => {
    const rand = rng(11);
    const dims = [2, 3, 4];
    const x = randn(rand, 24);
    for (const axis of [0, 1, 2]) {
      const p = randomParams(rand, 4, false, axis, dims[axis]!);
      const full = fakeQuantUniform(x, dims, p);
      for (let c = 0; c < dims[axis]!; c++) {
        const pc = makeUniformParams({ ...p, axis: null, scale: [p.scale[c]!], zeroPoint: [p.zeroPoint[c]!] });
        const slice = channelSlice(x, dims, axis, c);
        expect(fakeQuantUniform(slice, [slice.length], pc)).toEqual(channelSlice(full, dims, axis, c));
      }
    }
  });

  it('handles all-positive data through a negative (RepQ-ViT) zero-point', () => {
    // RepQ-ViT's [2, 3] example: δ = 1/15, z = −30 puts the whole grid on [2, 3].
    const p = makeUniformParams({ bits: 4, symmetric: false, axis: null, scale: [1 / 15], zeroPoint: [-30] });
    const x = uniform(rng(3), 500, 2, 3);
    const xq = fakeQuantUniform(x, [500], p);
    const codes = quantizeUniform(x, [500], p);
    let maxErr = 0;
    for (let i = 0; i < x.length; i++) maxErr = Math.max(maxErr, Math.abs(x[i]! - xq[i]!));
    expect(maxErr).toBeLessThanOrEqual((p.scale[0]! / 2) * (1 + 1e-5));
    expect(Math.min(...codes)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...codes)).toBeLessThanOrEqual(15);
    expect(fakeQuantUniform(Float32Array.of(0), [1], p)[0]).toBeCloseTo(2, 6); // 0 is not representable: clamps to 2
  });

  it('rounds x/δ before adding a fractional zero-point, as RepQ-ViT does', () => {
    const p = makeUniformParams({ bits: 4, symmetric: false, axis: null, scale: [1], zeroPoint: [0.25] });
    // round(0.4) + 0.25 = 0.25 → x̂ = 0; rounding after adding z would give round(0.65) = 1 → x̂ = 0.75.
    expect(fakeQuantUniform(Float32Array.of(0.4), [1], p)[0]).toBe(0);
    expect(quantizeUniform(Float32Array.of(0.4), [1], p)[0]).toBe(0.25);
  });

  it('works in place and through the kind dispatcher', () => {
    const p = makeUniformParams({ bits: 3, symmetric: false, axis: 1, scale: [0.1, 0.2], zeroPoint: [3, 4] });
    const x = randn(rng(5), 8);
    const expected = fakeQuantUniform(x, [4, 2], p);
    expect(fakeQuant(x, [4, 2], p)).toEqual(expected);
    const y = x.slice();
    fakeQuantUniform(y, [4, 2], p, y);
    expect(y).toEqual(expected);
  });

  it('scores candidates without materializing x̂', () => {
    const p = makeUniformParams({ bits: 4, symmetric: false, axis: null, scale: [0.3], zeroPoint: [7] });
    const x = randn(rng(9), 100);
    const xq = fakeQuantUniform(x, [100], p);
    let s2 = 0;
    let s24 = 0;
    for (let i = 0; i < 100; i++) {
      s2 += (xq[i]! - x[i]!) ** 2;
      s24 += Math.abs(xq[i]! - x[i]!) ** 2.4;
    }
    expect(uniformErrorSum(x, p.scale[0]!, 7, 0, 15, 2)).toBeCloseTo(s2, 12);
    expect(uniformErrorSum(x, p.scale[0]!, 7, 0, 15, 2.4)).toBeCloseTo(s24, 12);
  });

  it('rejects params that do not fit the tensor', () => {
    const p = makeUniformParams({ bits: 8, symmetric: false, axis: 1, scale: [1, 1], zeroPoint: [0, 0] });
    expect(() => fakeQuantUniform(new Float32Array(6), [2, 3], p)).toThrow(QuantlensError);
    expect(() => fakeQuantUniform(new Float32Array(5), [2, 2], p)).toThrow(/elements/);
  });
});
