import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import type { HostTensor } from '../util/host-tensor.js';
import { encodeNpy } from './npy.js';
import { encodeNpz, parseNpz, readNpz, writeNpz } from './npz.js';
import { openNpyDataset, openNpzDataset, tensorDataset } from './tensor-dataset.js';
import { collectBatches, expectError } from '../test-support/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'quantlens-npz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const x: HostTensor = { dtype: 'float32', dims: [4, 2], data: Float32Array.from({ length: 8 }, (_, i) => i / 2) };
const t: HostTensor = { dtype: 'int64', dims: [4], data: BigInt64Array.of(10n, 20n, 30n, 40n) };
const labels: HostTensor = { dtype: 'int32', dims: [4], data: Int32Array.of(3, 0, 2, 1) };
const arrays = new Map([
  ['x', x],
  ['t', t],
  ['labels', labels],
]);

/** Compression method of the first local file header (0 stored, 8 deflated). */
const method = (zip: Uint8Array) => zip[8]! | (zip[9]! << 8);

describe('NPZ', () => {
  it('writes and reads stored and deflated archives', () => {
    for (const compress of [false, true]) {
      const bytes = encodeNpz(arrays, { compress });
      expect(method(bytes)).toBe(compress ? 8 : 0);
      const back = parseNpz(bytes, 'a.npz');
      expect([...back.keys()]).toEqual(['x', 't', 'labels']);
      expect(back.get('x')!.data).toEqual(x.data);
      expect(back.get('t')!.data).toEqual(t.data);
    }
    const path = join(dir, 'w.npz');
    writeNpz(path, arrays, { compress: true });
    expect(readNpz(path).get('labels')!.dims).toEqual([4]);
    expect(encodeNpz(arrays)).toEqual(encodeNpz(arrays)); // reproducible bytes
  });

  it('rejects non-array entries and damaged archives', () => {
    const odd = zipSync({ 'x.npy': encodeNpy(x), 'README.txt': new Uint8Array(3) });
    expectError(() => parseNpz(odd, 'o.npz'), /o\.npz holds 'README\.txt', which is not an \.npy array/);
    const full = encodeNpz(arrays);
    expectError(
      () => parseNpz(full.subarray(0, full.length - 30), 'cut.npz'),
      /cut\.npz is not a readable NPZ \(zip\) file/,
    );
    const badEntry = zipSync({ 'x.npy': new Uint8Array(20) });
    expectError(() => parseNpz(badEntry, 'e.npz'), /e\.npz:x\.npy is not an NPY file/);
  });
});

describe('tensor datasets', () => {
  it('slices the leading axis of every array; labels become batch labels', async () => {
    const path = join(dir, 'd.npz');
    writeNpz(path, arrays);
    const ds = openNpzDataset(path, { labels: ['a', 'b', 'c', 'd'] });
    expect([ds.size, ds.name, ds.classes]).toEqual([4, 'd.npz', ['a', 'b', 'c', 'd']]);
    expect(Array.from(ds.labels!)).toEqual([3, 0, 2, 1]);
    const batches = await collectBatches(ds.batches(3));
    expect(batches.map((b) => b.indices)).toEqual([[0, 1, 2], [3]]);
    const b0 = batches[0]!;
    expect([...b0.inputs.keys()]).toEqual(['x', 't']);
    expect(b0.inputs.get('x')).toEqual({
      dtype: 'float32',
      dims: [3, 2],
      data: Float32Array.of(0, 0.5, 1, 1.5, 2, 2.5),
    });
    expect(b0.inputs.get('t')).toEqual({ dtype: 'int64', dims: [3], data: BigInt64Array.of(10n, 20n, 30n) });
    expect(Array.from(b0.labels!)).toEqual([3, 0, 2]);
    const [pick] = await collectBatches(ds.batches(8, { indices: [3, 1] }));
    expect(Array.from(pick!.inputs.get('x')!.data as Float32Array)).toEqual([3, 3.5, 1, 1.5]);
  });

  it('names a single .npy input after its file', async () => {
    const path = join(dir, 'latents.npy');
    writeFileSync(path, encodeNpy(x));
    const ds = openNpyDataset(path);
    const [b] = await collectBatches(ds.batches(2, { limit: 2 }));
    expect([...b!.inputs.keys()]).toEqual(['latents']);
    expect(b!.labels).toBeUndefined();
  });

  it('rejects mismatched leading lengths, scalars, empty data and non-finite values', () => {
    const short: HostTensor = { dtype: 'float32', dims: [3], data: new Float32Array(3) };
    expectError(
      () =>
        tensorDataset(
          new Map([
            ['x', x],
            ['y', short],
          ]),
          'm.npz',
        ),
      /arrays in m\.npz differ in leading length: 'x' has 4 items, 'y' has 3/,
    );
    const scalar: HostTensor = { dtype: 'float32', dims: [], data: new Float32Array(1) };
    expectError(() => tensorDataset(new Map([['s', scalar]]), 's.npz'), /array 's' in s\.npz is a scalar/);
    const empty: HostTensor = { dtype: 'float32', dims: [0, 3], data: new Float32Array(0) };
    expectError(() => tensorDataset(new Map([['e', empty]]), 'e.npz'), /e\.npz holds 0 items/);
    expectError(() => tensorDataset(new Map(), 'n.npz'), /n\.npz holds no arrays/);
    const nan: HostTensor = { dtype: 'float32', dims: [4, 2], data: Float32Array.of(0, 1, 2, 3, 4, NaN, 6, 7) };
    expectError(
      () => tensorDataset(new Map([['x', nan]]), 'nan.npz'),
      /array 'x' in nan\.npz has a non-finite value \(NaN\) at index \[2, 1\] \(flat 5\)/,
    );
    expectError(
      () => tensorDataset(arrays, 'l.npz', { labels: ['a', 'b'] }),
      /l\.npz: label 3 of item 0 is outside the 2 class names/,
    );
  });
});
