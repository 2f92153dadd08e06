import { describe, expect, it } from 'vitest';
import { QuantlensError } from '../errors.js';
import {
  isIntegerRepresentable,
  makeLogParams,
  makeUniformParams,
  qdqDTypeFor,
  qdqIncompatibility,
  uniformGrid,
  validateQuantParams,
  type UniformParams,
} from './qparams.js';

const u = (bits: number, symmetric: boolean, zeroPoint: number[], axis: number | null = null): UniformParams =>
  makeUniformParams({ bits, symmetric, axis, scale: zeroPoint.map(() => 0.1), zeroPoint });

describe('quantization params', () => {
  it('uses unsigned asymmetric and full signed symmetric grids', () => {
    expect(uniformGrid(8, false)).toEqual({ qmin: 0, qmax: 255 });
    expect(uniformGrid(8, true)).toEqual({ qmin: -128, qmax: 127 });
    expect(uniformGrid(4, true)).toEqual({ qmin: -8, qmax: 7 });
    expect(uniformGrid(16, false)).toEqual({ qmin: 0, qmax: 65535 });
  });

  it('rejects bit widths outside 2–16 and malformed params with a usage error', () => {
    expect(() => uniformGrid(1, false)).toThrow(QuantlensError);
    expect(() => uniformGrid(17, false)).toThrow(/2 to 16/);
    expect(() => makeUniformParams({ bits: 8, symmetric: false, axis: null, scale: [0], zeroPoint: [0] })).toThrow(
      /scales must be > 0/,
    );
    expect(() => makeUniformParams({ bits: 8, symmetric: true, axis: null, scale: [1], zeroPoint: [3] })).toThrow(
      /zero-point 0/,
    );
    expect(() =>
      makeUniformParams({ bits: 8, symmetric: false, axis: null, scale: [1, 2], zeroPoint: [0, 0] }),
    ).toThrow(/one scale/);
    expect(() => validateQuantParams(u(8, false, [0, 0], 1), [3, 4])).toThrow(/4 channels/);
    expect(() => makeLogParams('logsqrt2', 4, 0)).toThrow(/> 0/);
  });

  it('stores float32 values and survives JSON', () => {
    const p = makeUniformParams({ bits: 4, symmetric: false, axis: 0, scale: [0.1, 1 / 3], zeroPoint: [-30, 2.7] });
    expect(p.scale).toEqual([Math.fround(0.1), Math.fround(1 / 3)]);
    expect(JSON.parse(JSON.stringify(p))).toEqual(p);
    const l = makeLogParams('logsqrt2', 4, 0.1);
    expect(JSON.parse(JSON.stringify(l))).toEqual(l);
  });

  it('says when QuantizeLinear can express a quantizer', () => {
    expect(isIntegerRepresentable(u(8, false, [128]), 'uint8')).toBe(true);
    expect(isIntegerRepresentable(u(8, false, [128]), 'int8')).toBe(false);
    expect(isIntegerRepresentable(u(8, true, [0]), 'int8')).toBe(true);
    expect(isIntegerRepresentable(u(4, false, [3, 15], 0), 'uint4')).toBe(true);
    expect(isIntegerRepresentable(u(4, true, [0]), 'int4')).toBe(true);
    // A 4-bit grid inside uint8 would saturate at 255 instead of 15.
    expect(qdqIncompatibility(u(4, false, [3]), 'uint8')).toMatch(/not the uint8 range/);
    expect(qdqIncompatibility(u(4, false, [-30]), 'uint4')).toMatch(/outside/);
    expect(qdqIncompatibility(u(8, false, [2.5]), 'uint8')).toMatch(/not an integer/);
    expect(qdqIncompatibility(makeLogParams('logsqrt2', 4, 0.5), 'uint4')).toMatch(/no QuantizeLinear form/);
    expect(qdqDTypeFor(u(8, false, [0]))).toBe('uint8');
    expect(qdqDTypeFor(u(4, true, [0]))).toBe('int4');
    expect(qdqDTypeFor(u(16, true, [0]))).toBe('int16');
    expect(qdqDTypeFor(u(6, false, [0]))).toBeNull();
    expect(qdqDTypeFor(makeLogParams('log2', 4, 1))).toBeNull();
  });
});
