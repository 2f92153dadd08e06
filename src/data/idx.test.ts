import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { openIdxFolder, parseIdx, readIdx } from './idx.js';
import { collectBatches, expectError } from '../test-support/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'quantlens-idx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function idx(dims: number[], data: Uint8Array, type = 0x08): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = type;
  head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, data]);
}

// 5 images of 2 wide x 3 high; pixel k of image i is 6i + k; labels i % 3.
const N = 5;
const pixels = Uint8Array.from({ length: N * 6 }, (_, k) => k);
const labels = Uint8Array.from({ length: N }, (_, i) => i % 3);

/** A fresh folder `sub` of the temp dir holding `files`. */
function mk(sub: string, files: Record<string, Buffer>): string {
  const d = join(dir, sub);
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(d, name), bytes);
  return d;
}

describe('IDX', () => {
  const raw = idx([N, 3, 2], pixels);
  const rawLabels = idx([N], labels);

  it('parses header and data', () => {
    const a = parseIdx(raw, 'x');
    expect(a.dims).toEqual([N, 3, 2]);
    expect(Array.from(a.data)).toEqual(Array.from(pixels));
  });

  it('detects gzip by its magic bytes, not by the file name', () => {
    const d = mk('names', {
      'gz-without-ext': gzipSync(raw),
      'raw-with-ext.gz': raw,
    });
    expect(Array.from(readIdx(join(d, 'gz-without-ext')).data)).toEqual(Array.from(pixels));
    expect(Array.from(readIdx(join(d, 'raw-with-ext.gz')).data)).toEqual(Array.from(pixels));
  });

  it('reads a folder with a raw train split and a gzipped test split, values exact', async () => {
    const d = mk('both', {
      'train-images-idx3-ubyte': raw,
      'train-labels-idx1-ubyte': rawLabels,
      't10k-images-idx3-ubyte.gz': gzipSync(raw),
      't10k-labels-idx1-ubyte.gz': gzipSync(rawLabels),
    });
    for (const split of ['train', 'test'] as const) {
      const ds = openIdxFolder(d, { split });
      expect(ds.size).toBe(N);
      expect(Array.from(ds.labels!)).toEqual([0, 1, 2, 0, 1]);
      const batches = await collectBatches(ds.batches(2));
      expect(batches.map((b) => b.indices)).toEqual([[0, 1], [2, 3], [4]]);
      const img = batches[1]!.inputs.get('image')!;
      expect(img.dims).toEqual([2, 1, 3, 2]);
      expect(Array.from(img.data as Float32Array)).toEqual(
        Array.from({ length: 12 }, (_, k) => Math.fround((12 + k) / 255)),
      );
      expect(Array.from(batches[1]!.labels!)).toEqual([2, 0]);
    }
    expect(openIdxFolder(d).name).toMatch(/\(test\)/);
  });

  it('visits given indices in their order, and honours limit', async () => {
    const d = mk('subset', { 't10k-images-idx3-ubyte': raw, 't10k-labels-idx1-ubyte': rawLabels });
    const ds = openIdxFolder(d);
    const [b] = await collectBatches(ds.batches(10, { indices: [4, 0, 3], limit: 2 }));
    expect(b!.indices).toEqual([4, 0]);
    expect(Array.from(b!.labels!)).toEqual([1, 0]);
    expect(b!.inputs.get('image')!.data[0]).toBe(Math.fround(24 / 255));
    await expect(collectBatches(ds.batches(0))).rejects.toThrow(/batch size must be a positive integer/);
    await expect(collectBatches(ds.batches(2, { indices: [5] }))).rejects.toThrow(
      /index 5 .* outside the dataset of 5 items/,
    );
  });

  it('applies preprocessing (pad 1, normalize) per batch', async () => {
    const d = mk('pre', { 't10k-images-idx3-ubyte': raw });
    const ds = openIdxFolder(d, { preprocess: { pad: 1, channels: 3, mean: [0.5], std: [0.5] } });
    expect(ds.labels).toBeUndefined();
    const [b] = await collectBatches(ds.batches(1, { limit: 1 }));
    const img = b!.inputs.get('image')!;
    expect(img.dims).toEqual([1, 3, 5, 4]);
    expect(img.data[0]).toBe(-1);
    expect(img.data[1 * 4 + 1]).toBeCloseTo(-1, 6); // pixel 0 is 0
    expect(img.data[2 * 20 + 3 * 4 + 2]).toBeCloseTo((5 / 255 - 0.5) / 0.5, 6); // channel 2, pixel (2, 1) = 5
    expect(b!.labels).toBeUndefined();
  });

  it('rejects bad files with one line naming the file', () => {
    const d = mk('bad', {
      magic: Buffer.from([1, 2, 3, 4, 0, 0, 0, 0]),
      trunc: idx([N, 3, 2], pixels).subarray(0, 20),
      float: idx([2], new Uint8Array(8), 0x0d),
      gz: Buffer.from([0x1f, 0x8b, 1, 2, 3]),
    });
    expectError(() => readIdx(join(d, 'magic')), /magic.*not an IDX file|not an IDX file \(bad magic/);
    expectError(() => readIdx(join(d, 'trunc')), /trunc is truncated: dims \[5, 3, 2\] need 30 bytes, found 4/);
    expectError(() => readIdx(join(d, 'float')), /float holds float32 IDX data; only uint8/);
    expectError(() => readIdx(join(d, 'gz')), /gz is a damaged gzip file/);
    expectError(() => readIdx(join(d, 'missing')), /no such file: .*missing/);
  });

  it('rejects label/image count mismatch and empty image files', () => {
    const d = mk('mismatch', {
      't10k-images-idx3-ubyte': raw,
      't10k-labels-idx1-ubyte': idx([3], labels.subarray(0, 3)),
    });
    expectError(
      () => openIdxFolder(d),
      /t10k-labels-idx1-ubyte has 3 labels but .*t10k-images-idx3-ubyte has 5 images/,
    );
    const e = mk('empty', { 'train-images-idx3-ubyte': idx([0, 28, 28], new Uint8Array(0)) });
    expectError(() => openIdxFolder(e), /train-images-idx3-ubyte holds no images/);
    expectError(() => openIdxFolder(e, { split: 'test' }), /has no test split \(it has: train\)/);
  });

  it('checks labels against the class names given', () => {
    const d = mk('names3', { 't10k-images-idx3-ubyte': raw, 't10k-labels-idx1-ubyte': rawLabels });
    expect(openIdxFolder(d, { labels: ['a', 'b', 'c'] }).classes).toEqual(['a', 'b', 'c']);
    expectError(() => openIdxFolder(d, { labels: ['a', 'b'] }), /label 2 of item 2 is outside the 2 class names/);
  });
});
