import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, detectImageFolder, indexImageFolder, openImageFolder } from './image-folder.js';
import { isGreyImage } from './image-header.js';
import { collectBatches, expectReject } from '../test-support/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'quantlens-imgfolder-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** RGB pixels of a w x h image: (y, x) -> [seed + 10x, seed + 20y, 255 - seed], interleaved. */
function rgb(w: number, h: number, seed: number): Buffer {
  const out = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) out.set([seed + 10 * x, seed + 20 * y, 255 - seed], (y * w + x) * 3);
  return out;
}

async function image(path: string, w: number, h: number, seed: number, format: 'png' | 'jpeg'): Promise<void> {
  mkdirSync(join(path, '..'), { recursive: true });
  const s = sharp(rgb(w, h, seed), { raw: { width: w, height: h, channels: 3 } });
  await (format === 'png' ? s.png() : s.jpeg({ quality: 100, chromaSubsampling: '4:4:4' })).toFile(path);
}

const root = join(dir, 'plain');
const split = join(dir, 'split');

beforeAll(async () => {
  // Classes out of alphabetical order on disk; file names whose code-point order differs from numeric order.
  await image(join(root, 'dog', 'a2.png'), 4, 3, 30, 'png');
  await image(join(root, 'dog', 'a10.png'), 4, 3, 40, 'png');
  await image(join(root, 'cat', 'x.png'), 4, 3, 50, 'png');
  await image(join(root, 'bird', 'b.jpg'), 4, 3, 60, 'jpeg');
  await image(join(root, 'bird', 'nested', 'c.png'), 4, 3, 70, 'png');
  writeFileSync(join(root, 'cat', 'notes.txt'), 'not an image');
  writeFileSync(join(root, 'cat', '._x.png'), 'macOS resource fork');
  for (const part of ['train', 'test'])
    for (const cls of ['a', 'b']) await image(join(split, part, cls, '0.png'), 2, 2, part === 'train' ? 0 : 100, 'png');
});

describe('ImageFolder', () => {
  it('sorts classes and files by code point, recursing into class folders, skipping non-images', () => {
    const idx = indexImageFolder(root);
    expect(idx.classes).toEqual(['bird', 'cat', 'dog']);
    expect(idx.files.map((f) => f.slice(root.length + 1))).toEqual([
      'bird/b.jpg',
      'bird/nested/c.png',
      'cat/x.png',
      'dog/a10.png',
      'dog/a2.png',
    ]);
    expect(Array.from(idx.labels)).toEqual([0, 0, 1, 2, 2]);
    expect(detectImageFolder(root)).toBe('classes');
    expect(detectImageFolder(split)).toBe('split');
  });

  it('decodes PNG exactly and JPEG closely, into normalized NCHW', async () => {
    const ds = openImageFolder(root);
    expect(ds.size).toBe(5);
    const [b] = await collectBatches(ds.batches(5, { indices: [2, 0] }));
    const img = b!.inputs.get('image')!;
    expect(img.dims).toEqual([2, 3, 3, 4]);
    expect(Array.from(b!.labels!)).toEqual([1, 0]);
    const want = (seed: number, c: number, y: number, x: number) =>
      [seed + 10 * x, seed + 20 * y, 255 - seed][c]! / 255;
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < 3; y++)
        for (let x = 0; x < 4; x++) {
          expect(img.data[c * 12 + y * 4 + x]).toBe(Math.fround(want(50, c, y, x))); // cat/x.png, lossless
          expect(Math.abs((img.data as Float32Array)[36 + c * 12 + y * 4 + x]! - want(60, c, y, x))).toBeLessThan(
            6 / 255,
          ); // JPEG
        }
  });

  it('handles grey and RGBA PNGs', async () => {
    const g = join(dir, 'grey.png');
    await sharp(Buffer.from([0, 255, 128, 64]), { raw: { width: 2, height: 2, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toFile(g);
    expect((await sharp(g).metadata()).channels).toBe(1);
    const gi = await decodeImage(g);
    expect([gi.channels, Array.from(gi.data)]).toEqual([1, [0, 255, 128, 64]]);
    const a = join(dir, 'rgba.png');
    await sharp(Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]), { raw: { width: 2, height: 1, channels: 4 } })
      .png()
      .toFile(a);
    const ai = await decodeImage(a);
    expect([ai.channels, Array.from(ai.data)]).toEqual([3, [1, 2, 3, 5, 6, 7]]);
    const g16 = join(dir, 'grey16.png');
    await sharp(Buffer.from([0, 255, 128, 64]), { raw: { width: 2, height: 2, channels: 1 } })
      .toColourspace('grey16')
      .png()
      .toFile(g16);
    const g16i = await decodeImage(g16);
    expect([g16i.channels, Array.from(g16i.data)]).toEqual([1, [0, 255, 128, 64]]);
    const cmyk = join(dir, 'cmyk.jpg');
    await sharp(rgb(4, 4, 30), { raw: { width: 4, height: 4, channels: 3 } })
      .toColourspace('cmyk')
      .jpeg({ quality: 100 })
      .toFile(cmyk);
    expect((await sharp(cmyk).metadata()).channels).toBe(4);
    const greyJpeg = await sharp(Buffer.alloc(16, 9), { raw: { width: 4, height: 4, channels: 1 } })
      .toColourspace('b-w')
      .jpeg()
      .toBuffer();
    expect(isGreyImage(greyJpeg)).toBe(true);
    expect(
      isGreyImage(
        await sharp(rgb(4, 4, 0), { raw: { width: 4, height: 4, channels: 3 } })
          .jpeg()
          .toBuffer(),
      ),
    ).toBe(false);
    expect(isGreyImage(await sharp(a).toBuffer())).toBe(false);
    expect(isGreyImage(Buffer.from('GIF89a'))).toBeUndefined();
    const ci = await decodeImage(cmyk);
    expect([ci.channels, ci.data.length]).toEqual([3, 48]);
  });

  it('uses train/test split folders; test by default', async () => {
    const test = openImageFolder(split);
    expect([test.size, test.classes, test.name]).toEqual([2, ['a', 'b'], 'split (test)']);
    const [b] = await collectBatches(test.batches(2));
    expect(b!.inputs.get('image')!.data[0]).toBe(Math.fround(100 / 255));
    const train = openImageFolder(split, { split: 'train' });
    const [t] = await collectBatches(train.batches(2));
    expect(t!.inputs.get('image')!.data[0]).toBe(0);
  });

  it("maps class folders to the model's label order by name", () => {
    const ds = openImageFolder(root, { labels: ['dog', 'cat', 'bird', 'fish'] });
    expect(ds.classes).toEqual(['dog', 'cat', 'bird', 'fish']);
    expect(Array.from(ds.labels!)).toEqual([2, 2, 1, 0, 0]);
    expect(() => openImageFolder(root, { labels: ['dog', 'cat'] })).toThrow(
      /class folder 'bird' in .* is not one of the model's labels/,
    );
  });

  it('names an image that will not decode', async () => {
    const bad = join(dir, 'bad');
    await image(join(bad, 'ok', '0.png'), 2, 2, 0, 'png');
    mkdirSync(join(bad, 'ok'), { recursive: true });
    writeFileSync(join(bad, 'ok', '1.jpg'), Buffer.from('definitely not a jpeg'));
    const ds = openImageFolder(bad);
    await expectReject(collectBatches(ds.batches(2)), /cannot decode image .*bad\/ok\/1\.jpg/);
    // A truncated JPEG too.
    const full = await sharp(rgb(16, 16, 5), { raw: { width: 16, height: 16, channels: 3 } })
      .jpeg()
      .toBuffer();
    writeFileSync(join(bad, 'ok', '1.jpg'), full.subarray(0, full.length >> 1));
    await expectReject(collectBatches(ds.batches(2)), /cannot decode image .*1\.jpg/);
  });

  it('needs a size when image sizes differ, and resizes with one', async () => {
    const mixed = join(dir, 'mixed');
    await image(join(mixed, 'c', '0.png'), 4, 4, 0, 'png');
    await image(join(mixed, 'c', '1.png'), 6, 4, 0, 'png');
    await expectReject(collectBatches(openImageFolder(mixed).batches(2)), /1\.png is 6x4 but .*0\.png is 4x4/);
    const ds = openImageFolder(mixed, { preprocess: { size: 2, channels: 3, mean: [0], std: [1] } });
    const [b] = await collectBatches(ds.batches(2));
    expect(b!.inputs.get('image')!.dims).toEqual([2, 3, 2, 2]);
  });

  it('rejects empty class folders, --split without split folders, and missing splits', () => {
    const empty = join(dir, 'empty-class');
    mkdirSync(join(empty, 'a'), { recursive: true });
    mkdirSync(join(empty, 'b'), { recursive: true });
    writeFileSync(join(empty, 'a', '0.png'), '');
    expect(() => openImageFolder(empty)).toThrow(/class folder .*empty-class\/b has no JPEG\/PNG images/);
    expect(() => openImageFolder(root, { split: 'test' })).toThrow(/has no train\/test split, so --split test/);
    const onlyTest = join(dir, 'only-test');
    mkdirSync(join(onlyTest, 'test', 'a'), { recursive: true });
    writeFileSync(join(onlyTest, 'test', 'a', '0.png'), '');
    expect(() => openImageFolder(onlyTest, { split: 'train' })).toThrow(/has no train split \(it has: test\)/);
    expect(openImageFolder(onlyTest, { defaultSplit: 'train' }).size).toBe(1);
  });
});
