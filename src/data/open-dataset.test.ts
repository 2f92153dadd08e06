import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QuantlensError } from '../errors.js';
import { encodeNpy } from './npy.js';
import { encodeNpz } from './npz.js';
import { openDataset } from './open-dataset.js';
import type { Batch } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'quantlens-open-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function put(path: string, bytes: Uint8Array | string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, bytes);
}

function idx(dims: number[], data: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = 0x08;
  head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, data]);
}

async function png(path: string, w = 2, h = 2): Promise<void> {
  mkdirSync(join(path, '..'), { recursive: true });
  await sharp(Buffer.alloc(w * h * 3, 99), { raw: { width: w, height: h, channels: 3 } })
    .png()
    .toFile(path);
}

async function first(ds: { batches(n: number): AsyncIterable<Batch> }): Promise<Batch> {
  for await (const b of ds.batches(64)) return b;
  throw new Error('no batch');
}

async function expectReject(p: Promise<unknown>, message: RegExp, kind?: string): Promise<QuantlensError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(QuantlensError);
  expect((err as Error).message).toMatch(message);
  expect((err as Error).message).not.toContain('\n');
  if (kind !== undefined) expect((err as QuantlensError).kind).toBe(kind);
  return err as QuantlensError;
}

beforeAll(async () => {
  put(join(dir, 'idx', 't10k-images-idx3-ubyte.gz'), gzipSync(idx([3, 2, 2], new Uint8Array(12).fill(51))));
  put(join(dir, 'idx', 't10k-labels-idx1-ubyte.gz'), gzipSync(idx([3], Uint8Array.of(0, 1, 2))));
  const rec = Buffer.alloc(3073 * 2);
  rec[3073] = 7;
  put(join(dir, 'cifar', 'cifar-10-batches-bin', 'test_batch.bin'), rec);
  await png(join(dir, 'folder', 'cls-a', '0.png'));
  await png(join(dir, 'folder', 'cls-b', '0.png'));
  await png(join(dir, 'splits', 'train', 'a', '0.png'));
  await png(join(dir, 'splits', 'test', 'a', '0.png'));
  await png(join(dir, 'splits', 'test', 'b', '0.png'));
  put(join(dir, 'x.npy'), encodeNpy({ dtype: 'float32', dims: [5, 2], data: new Float32Array(10) }));
  put(join(dir, 'd.npz'), encodeNpz(new Map([['z', { dtype: 'float32', dims: [3], data: new Float32Array(3) }]])));
});

describe('openDataset detects the layout', () => {
  it('IDX folder, and a single IDX file with its labels beside it', async () => {
    const ds = await openDataset(join(dir, 'idx'));
    expect([ds.size, Array.from(ds.labels!)]).toEqual([3, [0, 1, 2]]);
    expect((await first(ds)).inputs.get('image')!.dims).toEqual([3, 1, 2, 2]);
    const one = await openDataset(join(dir, 'idx', 't10k-images-idx3-ubyte.gz'));
    expect(Array.from(one.labels!)).toEqual([0, 1, 2]);
  });

  it('CIFAR-10 binary folder (inside cifar-10-batches-bin/) and a single .bin', async () => {
    const ds = await openDataset(join(dir, 'cifar'));
    expect([ds.size, Array.from(ds.labels!)]).toEqual([2, [0, 7]]);
    const one = await openDataset(join(dir, 'cifar', 'cifar-10-batches-bin', 'test_batch.bin'));
    expect(one.size).toBe(2);
  });

  it('ImageFolder, with and without split folders', async () => {
    const ds = await openDataset(join(dir, 'folder'), {
      preprocess: { size: 2, channels: 3, mean: [0.5], std: [0.5] },
    });
    expect([ds.size, ds.classes]).toEqual([2, ['cls-a', 'cls-b']]);
    const img = (await first(ds)).inputs.get('image')!;
    expect(img.dims).toEqual([2, 3, 2, 2]);
    expect(img.data[0]).toBeCloseTo((99 / 255 - 0.5) / 0.5, 6);
    expect((await openDataset(join(dir, 'splits'))).size).toBe(2);
    expect((await openDataset(join(dir, 'splits'), { split: 'train' })).size).toBe(1);
  });

  it('.npy and .npz files', async () => {
    expect((await openDataset(join(dir, 'x.npy'))).size).toBe(5);
    const z = await openDataset(join(dir, 'd.npz'));
    expect([...(await first(z)).inputs.keys()]).toEqual(['z']);
    await expectReject(openDataset(join(dir, 'x.npy'), { split: 'train' }), /has no train\/test split/);
  });
});

describe('openDataset refuses bad input with one clear line', () => {
  it('missing path', async () => {
    await expectReject(openDataset(join(dir, 'nope')), /no such file or folder: .*nope/, 'io');
  });

  it('tarballs and zips, with a hint to unpack', async () => {
    put(join(dir, 'images.tar.gz'), gzipSync(Buffer.from('tar')));
    const e = await expectReject(
      openDataset(join(dir, 'images.tar.gz')),
      /images\.tar\.gz is an archive; quantlens reads unpacked/,
    );
    expect(e.hint).toMatch(/tar xf .*images\.tar\.gz/);
    put(join(dir, 'z', 'images.zip'), 'PK');
    const z = await expectReject(openDataset(join(dir, 'z', 'images.zip')), /is an archive/);
    expect(z.hint).toMatch(/unzip/);
    put(join(dir, 'z', 'data.gz'), gzipSync(Buffer.from('x')));
    expect((await expectReject(openDataset(join(dir, 'z', 'data.gz')), /is an archive/)).hint).toMatch(/gunzip -k/);
  });

  it('unknown layouts, naming what was expected', async () => {
    put(join(dir, 'junk', 'notes.txt'), 'hello');
    await expectReject(
      openDataset(join(dir, 'junk')),
      /cannot tell the layout of .*junk: expected IDX files, CIFAR-10 \.bin batches, an ImageFolder \(class sub-folders of JPEG\/PNG\) or \.npy\/\.npz/,
      'data',
    );
    put(join(dir, 'packed', 'test.tar.gz'), 'x');
    const e = await expectReject(openDataset(join(dir, 'packed')), /cannot tell the layout/);
    expect(e.hint).toMatch(/holds test\.tar\.gz: unpack it/);
    put(join(dir, 'model.onnx'), 'x');
    await expectReject(openDataset(join(dir, 'model.onnx')), /cannot tell the layout of .*model\.onnx/);
    mkdirSync(join(dir, 'nothing'));
    await expectReject(openDataset(join(dir, 'nothing')), /nothing is empty/);
  });

  it('empty datasets', async () => {
    put(join(dir, 'idx0', 'train-images-idx3-ubyte'), idx([0, 28, 28], new Uint8Array(0)));
    await expectReject(openDataset(join(dir, 'idx0')), /holds no images/);
    put(join(dir, 'empty.npy'), encodeNpy({ dtype: 'uint8', dims: [0], data: new Uint8Array(0) }));
    await expectReject(openDataset(join(dir, 'empty.npy')), /holds 0 items/);
    put(join(dir, 'emptyclass', 'a', 'x.png'), '');
    mkdirSync(join(dir, 'emptyclass', 'b'));
    await expectReject(openDataset(join(dir, 'emptyclass')), /class folder .*emptyclass\/b has no JPEG\/PNG images/);
  });

  it('an image that will not decode, when its batch is read', async () => {
    put(join(dir, 'broken', 'a', '0.jpg'), 'not a jpeg');
    const ds = await openDataset(join(dir, 'broken'));
    await expectReject(first(ds), /cannot decode image .*broken\/a\/0\.jpg/, 'data');
  });

  it('a CIFAR file of the wrong size', async () => {
    put(join(dir, 'c100', 'test_batch.bin'), Buffer.alloc(100));
    await expectReject(openDataset(join(dir, 'c100')), /test_batch\.bin is not a CIFAR-10 binary batch/);
  });
});
