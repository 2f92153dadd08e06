import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HostTensor } from '../util/host-tensor.js';
import { checkFinite, unravelIndex } from './finite.js';
import { encodeNpy, parseNpy, readNpy, writeNpy } from './npy.js';
import { expectError } from '../test-support/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'quantlens-npy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** NPY bytes with a header written the way numpy writes it (dict, spaces to a 64-byte boundary, newline). */
function npy(header: string, data: Uint8Array, major = 1): Uint8Array {
  const prefix = major === 1 ? 10 : 12;
  const pad = (64 - ((prefix + header.length + 1) % 64)) % 64;
  const h = Buffer.from(header + ' '.repeat(pad) + '\n', major === 3 ? 'utf8' : 'latin1');
  const head = Buffer.alloc(prefix);
  head.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  if (major === 1) head.writeUInt16LE(h.length, 8);
  else head.writeUInt32LE(h.length, 8);
  return Buffer.concat([head, h, data]);
}

const f32 = (values: number[]) => new Uint8Array(Float32Array.from(values).buffer);

describe('NPY', () => {
  it('reads numpy-style headers of versions 1, 2 and 3', () => {
    for (const major of [1, 2, 3]) {
      const t = parseNpy(
        npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", f32([1, 2, 3, 4, 5, 6]), major),
        'a.npy',
      );
      expect(t.dtype).toBe('float32');
      expect(t.dims).toEqual([2, 3]);
      expect(Array.from(t.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    }
  });

  it('reads 1-D, scalar and Python 2 long shapes', () => {
    expect(
      parseNpy(npy("{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }", Uint8Array.from([7, 8, 9])), 'x').dims,
    ).toEqual([3]);
    const s = parseNpy(
      npy("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", new Uint8Array(Float64Array.of(2.5).buffer)),
      'x',
    );
    expect([s.dims, Array.from(s.data as Float64Array)]).toEqual([[], [2.5]]);
    expect(
      parseNpy(npy("{'descr': '<i4', 'fortran_order': False, 'shape': (1L, 2L), }", new Uint8Array(8)), 'x').dims,
    ).toEqual([1, 2]);
  });

  it('round-trips every supported dtype through write and read, header aligned to 64 bytes', () => {
    const cases: HostTensor[] = [
      { dtype: 'float32', dims: [2, 2], data: Float32Array.of(1.5, -2, 3.25, 0) },
      { dtype: 'float64', dims: [3], data: Float64Array.of(Math.PI, -1e300, 5e-324) },
      { dtype: 'int64', dims: [2], data: BigInt64Array.of(-(2n ** 62n), 2n ** 62n + 5n) },
      { dtype: 'int32', dims: [1, 3], data: Int32Array.of(-2147483648, 0, 2147483647) },
      { dtype: 'uint8', dims: [4], data: Uint8Array.of(0, 1, 254, 255) },
      { dtype: 'int8', dims: [2], data: Int8Array.of(-128, 127) },
      { dtype: 'bool', dims: [3], data: Uint8Array.of(1, 0, 1) },
      { dtype: 'float32', dims: [0, 4], data: new Float32Array(0) },
    ];
    for (const [i, t] of cases.entries()) {
      const bytes = encodeNpy(t);
      const headerLen = bytes[8]! | (bytes[9]! << 8);
      expect((10 + headerLen) % 64).toBe(0);
      const path = join(dir, `${i}.npy`);
      writeNpy(path, t);
      const back = readNpy(path);
      expect(back.dtype).toBe(t.dtype);
      expect(back.dims).toEqual(t.dims);
      expect(Array.from(back.data as ArrayLike<unknown>)).toEqual(Array.from(t.data as ArrayLike<unknown>));
    }
    const header = Buffer.from(encodeNpy(cases[0]!)).toString('latin1', 10, 128);
    expect(header).toMatch(/^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 2\), \} +\n/);
    expect(Buffer.from(encodeNpy(cases[2]!)).toString('latin1')).toContain("'shape': (2,)");
  });

  it('rejects what it cannot read, naming the file and the problem', () => {
    const h = (descr: string, fortran = 'False', shape = '(2,)') =>
      `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;
    expectError(() => parseNpy(npy(h('<f4', 'True'), f32([1, 2])), 'f.npy'), /f\.npy is stored in Fortran order/);
    expectError(() => parseNpy(npy(h('>f4'), f32([1, 2])), 'b.npy'), /b\.npy is big-endian \('>f4'\)/);
    expectError(
      () => parseNpy(npy(h('<f2'), new Uint8Array(4)), 'h.npy'),
      /h\.npy has dtype '<f2', which is not supported/,
    );
    expectError(() => parseNpy(npy(h('<U3'), new Uint8Array(24)), 'u.npy'), /dtype '<U3'/);
    expectError(
      () =>
        parseNpy(npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", new Uint8Array(8)), 's.npy'),
      /s\.npy has a structured dtype/,
    );
    expectError(
      () => parseNpy(npy(h('<f4', 'False', '(4,)'), f32([1, 2])), 't.npy'),
      /t\.npy is truncated: shape \(4\) needs 16 data bytes, found 8/,
    );
    expectError(() => parseNpy(Buffer.from('PK\x03\x04 this is a zip'), 'z.npy'), /z\.npy is not an NPY file/);
    expectError(() => parseNpy(npy(h('<f4'), f32([1, 2]), 4), 'v.npy'), /v\.npy is NPY version 4/);
    expectError(() => parseNpy(npy("{'shape': (2,), }", f32([1, 2])), 'm.npy'), /m\.npy has a malformed NPY header/);
    writeFileSync(join(dir, 'short.npy'), npy(h('<f4'), f32([1, 2])).subarray(0, 30));
    expectError(() => readNpy(join(dir, 'short.npy')), /short\.npy is truncated \(header ends early\)/);
    expectError(() => readNpy(join(dir, 'absent.npy')), /no such file: .*absent\.npy/);
  });
});

describe('checkFinite', () => {
  it('names the array and the first bad index', () => {
    const t: HostTensor = { dtype: 'float32', dims: [2, 3], data: Float32Array.of(0, 1, 2, 3, Infinity, NaN) };
    expectError(
      () => checkFinite(t, "array 'x'"),
      /array 'x' has a non-finite value \(Infinity\) at index \[1, 1\] \(flat 4\)/,
    );
    const d: HostTensor = { dtype: 'float64', dims: [3], data: Float64Array.of(0, NaN, 1) };
    expectError(() => checkFinite(d, 'y'), /y has a non-finite value \(NaN\) at index 1$/);
    expect(() =>
      checkFinite({ dtype: 'float32', dims: [2], data: Float32Array.of(-3.4e38, 1e-45) }, 'z'),
    ).not.toThrow();
    expect(() => checkFinite({ dtype: 'int32', dims: [1], data: Int32Array.of(5) }, 'w')).not.toThrow();
    expect(unravelIndex(23, [2, 3, 4])).toEqual([1, 2, 3]);
  });
});
