import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CIFAR10_CLASSES, findCifarBatches, openCifarFiles, openCifarFolder } from './cifar-binary.js';
import { collectBatches, expectError } from '../test-support/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'quantlens-cifar-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Records with label labels[r] and pixel byte k of record r = (7r + k) % 251, stamped by `seed`. */
function records(labels: number[], seed: number): Buffer {
  const out = Buffer.alloc(labels.length * 3073);
  labels.forEach((l, r) => {
    out[r * 3073] = l;
    for (let k = 0; k < 3072; k++) out[r * 3073 + 1 + k] = (7 * r + k + seed) % 251;
  });
  return out;
}

function mk(sub: string, files: Record<string, Buffer | string>): string {
  const d = join(dir, sub);
  rmSync(d, { recursive: true, force: true });
  mkdirSync(join(d, 'cifar-10-batches-bin'), { recursive: true });
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(d, name), bytes);
  return d;
}

describe('CIFAR-10 binary', () => {
  const d = mk('release', {
    'cifar-10-batches-bin/data_batch_1.bin': records([3, 1, 4], 0),
    'cifar-10-batches-bin/data_batch_2.bin': records([1, 5], 100),
    'cifar-10-batches-bin/test_batch.bin': records([9, 2], 200),
    'cifar-10-batches-bin/batches.meta.txt': CIFAR10_CLASSES.join('\n') + '\n\n',
  });

  it('finds the batches inside cifar-10-batches-bin/', () => {
    const layout = findCifarBatches(d)!;
    expect(layout.train.map((f) => f.slice(-16))).toEqual(['data_batch_1.bin', 'data_batch_2.bin']);
    expect(layout.test).toHaveLength(1);
  });

  it('reads records across files, CHW pixels exact', async () => {
    const ds = openCifarFolder(d, { split: 'train' });
    expect(ds.size).toBe(5);
    expect(ds.classes).toEqual(CIFAR10_CLASSES);
    expect(Array.from(ds.labels!)).toEqual([3, 1, 4, 1, 5]);
    const [b] = await collectBatches(ds.batches(8, { indices: [3, 2] }));
    expect(Array.from(b!.labels!)).toEqual([1, 4]);
    const img = b!.inputs.get('image')!;
    expect(img.dims).toEqual([2, 3, 32, 32]);
    // Item 3 is record 0 of data_batch_2 (seed 100); item 2 is record 2 of data_batch_1 (seed 0).
    const expected = (r: number, seed: number, k: number) => Math.fround(((7 * r + k + seed) % 251) / 255);
    for (let k = 0; k < 3072; k++) {
      expect(img.data[k]).toBe(expected(0, 100, k));
      expect(img.data[3072 + k]).toBe(expected(2, 0, k));
    }
  });

  it('defaults to the test split', async () => {
    const ds = openCifarFolder(d);
    expect(ds.size).toBe(2);
    expect(ds.name).toMatch(/\(test\)/);
    const [b] = await collectBatches(ds.batches(2, { limit: 1 }));
    expect(b!.indices).toEqual([0]);
    expect(Array.from(b!.labels!)).toEqual([9]);
  });

  it('converts to grey with the 601 luma when the model wants 1 channel', async () => {
    const ds = openCifarFolder(d, { preprocess: { channels: 1, mean: [0], std: [1] } });
    const [b] = await collectBatches(ds.batches(1, { limit: 1 }));
    const px = (k: number) => (k + 200) % 251;
    expect(b!.inputs.get('image')!.dims).toEqual([1, 1, 32, 32]);
    expect(b!.inputs.get('image')!.data[5]).toBeCloseTo((0.299 * px(5) + 0.587 * px(1029) + 0.114 * px(2053)) / 255, 6);
  });

  it('rejects files that are not whole records, and labels out of range', () => {
    const bad = mk('bad', { 'test_batch.bin': Buffer.alloc(3074 * 2) });
    expectError(
      () => openCifarFolder(bad),
      /test_batch.bin is not a CIFAR-10 binary batch: 6148 bytes .* 3073-byte records/,
    );
    const lab = mk('labels', { 'test_batch.bin': records([0, 10], 0) });
    expectError(() => openCifarFolder(lab), /test_batch.bin: label 10 of item 1 is outside the 10 class names/);
    const only = mk('only-test', { 'test_batch.bin': records([0], 0) });
    expectError(() => openCifarFolder(only, { split: 'train' }), /has no train split \(it has: test\)/);
    // The default (not an explicit --split) falls back to the part that exists.
    expect(openCifarFolder(only, { defaultSplit: 'train' }).size).toBe(1);
    expectError(() => openCifarFiles([join(bad, 'nope.bin')]), /no such file: .*nope.bin/);
  });
});
