import { describe, expect, it } from 'vitest';
import type { HostTensor } from '../util/host-tensor.js';
import { unetCalibArrays } from './calib-arrays.js';
import type { UNetIO } from './unet-io.js';

const io: UNetIO = { x: 'sample', t: 'timestep', tDtype: 'int64', eps: 'eps', shape: [1, 2, 2] };
const f32 = (dims: number[], from = 0): HostTensor => ({
  dtype: 'float32',
  dims,
  data: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => from + i),
});

describe('unetCalibArrays', () => {
  it('binds xs/ts stacked per step, flattening step-major and casting float time steps to the model dtype', () => {
    const out = unetCalibArrays(
      new Map([
        ['xs', f32([2, 3, 1, 2, 2])],
        ['ts', { dtype: 'float64', dims: [2, 3], data: Float64Array.of(800, 800, 800, 1, 1, 1) }],
      ]),
      io,
      'c.npz',
    );
    expect([...out.keys()]).toEqual(['sample', 'timestep']);
    expect(out.get('sample')!.dims).toEqual([6, 1, 2, 2]);
    expect(Array.from(out.get('timestep')!.data as BigInt64Array, Number)).toEqual([800, 800, 800, 1, 1, 1]);
  });

  it('takes arrays named after the inputs as they are, and names what is wrong', () => {
    const t: HostTensor = { dtype: 'int64', dims: [2], data: BigInt64Array.of(5n, 9n) };
    const named = unetCalibArrays(
      new Map([
        ['sample', f32([2, 1, 2, 2])],
        ['timestep', t],
      ]),
      io,
      'c.npz',
    );
    expect(named.get('timestep')).toEqual(t);
    expect(() => unetCalibArrays(new Map([['x', f32([2, 1, 2, 2])]]), io, 'c.npz')).toThrow(
      /needs sample and timestep/,
    );
    const frac: HostTensor = { dtype: 'float32', dims: [2], data: Float32Array.of(1.5, 2) };
    expect(() =>
      unetCalibArrays(
        new Map([
          ['xs', f32([2, 1, 2, 2])],
          ['ts', frac],
        ]),
        io,
        'c.npz',
      ),
    ).toThrow(/not an integer/);
    expect(() =>
      unetCalibArrays(
        new Map([
          ['xs', f32([2, 3, 2, 2])],
          ['ts', frac],
        ]),
        io,
        'c.npz',
      ),
    ).toThrow(/expected \[N, 1, 2, 2\]/);
  });
});
