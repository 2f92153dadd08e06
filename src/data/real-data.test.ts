// Checks on the real datasets where this machine has them; skipped cleanly elsewhere.

import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { calibrationIndices } from './calib.js';
import { CIFAR10_CLASSES } from './cifar-binary.js';
import { cifar10Available, ensureCifar10 } from './cifar10-cache.js';
import { openDataset } from './open-dataset.js';

const FASHION_MNIST = '/usr/share/datasets/fashion-mnist';

function histogram(labels: Int32Array, classes: number): number[] {
  const h = new Array<number>(classes).fill(0);
  for (const l of labels) h[l]!++;
  return h;
}

describe.skipIf(!existsSync(`${FASHION_MNIST}/t10k-images-idx3-ubyte.gz`))('Fashion-MNIST (Debian package)', () => {
  it('t10k: 10,000 images, 1,000 per class, through every batch', async () => {
    const ds = await openDataset(FASHION_MNIST, {
      split: 'test',
      preprocess: { pad: 2, channels: 1, mean: [0.5], std: [0.5] },
    });
    expect(ds.size).toBe(10_000);
    expect(histogram(ds.labels!, 10)).toEqual(new Array(10).fill(1000));
    const seen = new Int32Array(10);
    let n = 0;
    for await (const b of ds.batches(2500)) {
      const img = b.inputs.get('image')!;
      expect(img.dims).toEqual([b.indices.length, 1, 32, 32]);
      for (const l of b.labels!) seen[l]!++;
      n += b.indices.length;
    }
    expect(n).toBe(10_000);
    expect(Array.from(seen)).toEqual(new Array(10).fill(1000));
  });

  it('train: 60,000 images', async () => {
    const ds = await openDataset(FASHION_MNIST, { split: 'train' });
    expect(ds.size).toBe(60_000);
    expect(histogram(ds.labels!, 10)).toEqual(new Array(10).fill(6000));
  });
});

describe.skipIf(!cifar10Available('test'))('CIFAR-10 test ImageFolder (shared tarball, unpacked to the cache)', () => {
  it('10,000 JPEGs, 1,000 per class in label order, decoded per batch', async () => {
    const path = await ensureCifar10('test');
    const ds = await openDataset(path, {
      preprocess: { size: 32, channels: 3, mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.243, 0.261] },
    });
    expect(ds.size).toBe(10_000);
    expect(ds.classes).toEqual(CIFAR10_CLASSES);
    expect(histogram(ds.labels!, 10)).toEqual(new Array(10).fill(1000));
    const indices = calibrationIndices(ds.size, 128, 0);
    let n = 0;
    for await (const b of ds.batches(64, { indices })) {
      const img = b.inputs.get('image')!;
      expect(img.dims).toEqual([64, 3, 32, 32]);
      expect(Array.from(b.labels!)).toEqual(b.indices.map((i) => ds.labels![i]));
      const data = img.data as Float32Array;
      expect(data.every((v) => v > -2.1 && v < 2.2)).toBe(true);
      n += b.indices.length;
    }
    expect(n).toBe(128);
    // The folder holding train/ and test/ is a split layout too.
    if (existsSync(`${dirname(path)}/train`)) expect((await openDataset(dirname(path))).size).toBe(10_000);
  });
});
