import { describe, expect, it } from 'vitest';
import { QuantlensError } from '../errors.js';
import { imageBatch } from './image-batch.js';
import { outputDims, preprocessInto, validatePreprocess, type Preprocess, type RawImage } from './preprocess.js';
import { resampleTable, resizeBilinear } from './resize.js';

const f = Math.fround;

/** Grey image of `w` x `h` with pixel (y, x) = value(y, x). */
function grey(w: number, h: number, value: (y: number, x: number) => number): RawImage {
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = value(y, x);
  return { data, width: w, height: h, channels: 1, layout: 'chw' };
}

function run(img: RawImage, p: Preprocess): { dims: number[]; data: Float32Array } {
  validatePreprocess(p);
  const dims = outputDims(p, img.width, img.height);
  const data = new Float32Array(dims[0] * dims[1] * dims[2]);
  preprocessInto(img, p, data, 0);
  return { dims, data };
}

function rows(t: { dims: number[]; data: Float32Array }, c = 0): number[][] {
  const [, h, w] = t.dims as [number, number, number];
  return Array.from({ length: h }, (_, y) => Array.from(t.data.subarray(c * h * w + y * w, c * h * w + (y + 1) * w)));
}

describe('resampleTable (PIL bilinear)', () => {
  const taps = (t: ReturnType<typeof resampleTable>, i: number) =>
    Array.from(t.weights.subarray(i * t.taps, i * t.taps + t.counts[i]!));

  it('upscaling 2 -> 4 is plain half-pixel bilinear with clamped edges', () => {
    const t = resampleTable(2, 4);
    expect(Array.from(t.starts)).toEqual([0, 0, 0, 1]);
    expect(taps(t, 0)).toEqual([1]);
    expect(taps(t, 1)).toEqual([0.75, 0.25]);
    expect(taps(t, 2)).toEqual([0.25, 0.75]);
    expect(taps(t, 3)).toEqual([1]);
  });

  it('downscaling 4 -> 2 widens the triangle (antialiasing): weights 3/7, 3/7, 1/7', () => {
    const t = resampleTable(4, 2);
    expect(Array.from(t.starts)).toEqual([0, 1]);
    taps(t, 0).forEach((w, k) => expect(w).toBeCloseTo([3 / 7, 3 / 7, 1 / 7][k]!, 12));
    taps(t, 1).forEach((w, k) => expect(w).toBeCloseTo([1 / 7, 3 / 7, 3 / 7][k]!, 12));
  });

  it('downscaling 8 -> 4: interior taps are 1/8, 3/8, 3/8, 1/8', () => {
    const t = resampleTable(8, 4);
    expect(Array.from(t.starts)).toEqual([0, 1, 3, 5]);
    taps(t, 1).forEach((w, k) => expect(w).toBeCloseTo([1 / 8, 3 / 8, 3 / 8, 1 / 8][k]!, 12));
    taps(t, 2).forEach((w, k) => expect(w).toBeCloseTo([1 / 8, 3 / 8, 3 / 8, 1 / 8][k]!, 12));
  });
});

describe('resizeBilinear', () => {
  it('computes a window exactly as the same part of the full resize', () => {
    const src = Float32Array.from({ length: 2 * 9 * 13 }, (_, i) => Math.sin(i * 0.7));
    for (const [oh, ow] of [
      [5, 7],
      [20, 29],
    ] as const) {
      const full = resizeBilinear(src, 2, 9, 13, oh, ow);
      const win = { top: 1, left: 2, height: oh - 3, width: ow - 4 };
      const part = resizeBilinear(src, 2, 9, 13, oh, ow, win);
      for (let p = 0; p < 2; p++)
        for (let y = 0; y < win.height; y++)
          for (let x = 0; x < win.width; x++)
            expect(part[(p * win.height + y) * win.width + x]).toBe(full[(p * oh + y + 1) * ow + x + 2]);
    }
  });
});

describe('preprocessInto', () => {
  it('center-crops, pads with black before normalizing, then normalizes', () => {
    // 6 wide, 4 high: pixel (y, x) = 10y + x. size 4: no resize (shorter side already 4), crop columns 1..4.
    const img = grey(6, 4, (y, x) => 10 * y + x);
    const t = run(img, { size: 4, pad: 1, channels: 1, mean: [0.5], std: [0.25] });
    expect(t.dims).toEqual([1, 6, 6]);
    const r = rows(t);
    const border = (0 - 0.5) / 0.25; // a padded pixel is 0 in [0,1] space
    expect(r[0]).toEqual(new Array(6).fill(border));
    expect(r[5]).toEqual(new Array(6).fill(border));
    for (let y = 1; y <= 4; y++) {
      expect(r[y]![0]).toBe(border);
      expect(r[y]![5]).toBe(border);
      for (let x = 1; x <= 4; x++) expect(r[y]![x]).toBeCloseTo((f((10 * (y - 1) + x) / 255) - 0.5) / 0.25, 6);
    }
    expect(r[1]![1]).toBeCloseTo((1 / 255 - 0.5) * 4, 6); // pixel (0, 1): -1.98431
    expect(r[4]![4]).toBeCloseTo((34 / 255 - 0.5) * 4, 6); // pixel (3, 4): -1.46667
  });

  it('rounds the crop offset half to even, as torchvision does', () => {
    // 7x5 to 4: left = round(1.5) = 2, top = round(0.5) = 0. resizeTo 5 keeps the 5-pixel side as it is.
    const img = grey(7, 5, (y, x) => 10 * y + x);
    const r = rows(run(img, { size: 4, resizeTo: 5, channels: 1, mean: [0], std: [1] }));
    expect(r[0]![0]).toBe(f(2 / 255));
    expect(r[3]![3]).toBe(f(35 / 255));
  });

  it('fills with zeros where the crop is larger than the image (torchvision pads first)', () => {
    const img = grey(3, 3, () => 255);
    const r = rows(run(img, { size: 4, resizeTo: 3, channels: 1, mean: [0], std: [1] }));
    // (4 - 3) // 2 = 0 on the left/top, the extra column/row on the right/bottom
    expect(r).toEqual([
      [1, 1, 1, 0],
      [1, 1, 1, 0],
      [1, 1, 1, 0],
      [0, 0, 0, 0],
    ]);
  });

  it('resizes the shorter side (bilinear, antialiased) then crops: values by hand', () => {
    // 4 wide, 8 high, pixel = 20y + 10x. size 2 -> shorter side 4 becomes 2, the image 2x4, crop rows 1..2.
    // Row taps (8 -> 4): out 1 = rows 1..4 x (1,3,3,1)/8; out 2 = rows 3..6 x (1,3,3,1)/8.
    // Column taps (4 -> 2): out 0 = cols 0,1,2 x (3,3,1)/7; out 1 = cols 1,2,3 x (1,3,3)/7.
    const img = grey(4, 8, (y, x) => 20 * y + 10 * x);
    const t = run(img, { size: 2, channels: 1, mean: [0], std: [1] });
    expect(t.dims).toEqual([1, 2, 2]);
    const r = rows(t);
    const rowPart = [(20 * (1 + 2 * 3 + 3 * 3 + 4)) / 8, (20 * (3 + 4 * 3 + 5 * 3 + 6)) / 8]; // 50, 90
    const colPart = [(10 * (0 * 3 + 1 * 3 + 2)) / 7, (10 * (1 + 2 * 3 + 3 * 3)) / 7]; // 50/7, 160/7
    for (let y = 0; y < 2; y++)
      for (let x = 0; x < 2; x++) expect(r[y]![x]).toBeCloseTo((rowPart[y]! + colPart[x]!) / 255, 6);
    expect(r[1]![1]).toBeCloseTo((90 + 160 / 7) / 255, 6);
  });

  it('uses floor(size / cropPct) as the resize target, like timm', () => {
    const p: Preprocess = { size: 224, cropPct: 0.9, channels: 3, mean: [0], std: [1] };
    // floor(224 / 0.9) = floor(248.9) = 248: a 496x992 image becomes 248x496 before the 224 crop.
    const img: RawImage = { data: new Uint8Array(496 * 992 * 3), width: 496, height: 992, channels: 3, layout: 'hwc' };
    const t = run(img, p);
    expect(t.dims).toEqual([3, 224, 224]);
    expect(outputDims({ resizeTo: 248, channels: 3, mean: [0], std: [1] }, 496, 992)).toEqual([3, 496, 248]);
  });

  it('converts RGB to grey by ITU-R 601 luma, for both layouts', () => {
    // Pixels: pure red, pure green, pure blue, white.
    const hwc = new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]);
    const chw = new Uint8Array([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255]);
    const p: Preprocess = { channels: 1, mean: [0], std: [1] };
    for (const [data, layout] of [
      [hwc, 'hwc'],
      [chw, 'chw'],
    ] as const) {
      const t = run({ data, width: 4, height: 1, channels: 3, layout }, p);
      expect(Array.from(t.data).map((v) => +v.toFixed(6))).toEqual([0.299, 0.587, 0.114, 1]);
    }
  });

  it('repeats grey into 3 channels and normalizes each with its own mean/std', () => {
    const img = grey(2, 1, (_, x) => (x === 0 ? 0 : 255));
    const t = run(img, { channels: 3, mean: [0.1, 0.2, 0.3], std: [1, 2, 4] });
    expect(t.dims).toEqual([3, 1, 2]);
    const want = [-0.1, 0.9, -0.1, 0.4, -0.075, 0.175];
    Array.from(t.data).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 6));
  });

  it('keeps RGB interleaved input in channel order', () => {
    const data = new Uint8Array([10, 20, 30, 40, 50, 60]);
    const t = run({ data, width: 2, height: 1, channels: 3, layout: 'hwc' }, { channels: 3, mean: [0], std: [1] });
    expect(Array.from(t.data)).toEqual([10, 40, 20, 50, 30, 60].map((v) => f(v / 255)));
  });

  it('pads Fashion-MNIST 28x28 to 32x32 with pad 2', () => {
    const t = run(
      grey(28, 28, () => 128),
      { pad: 2, channels: 1, mean: [0.5], std: [0.5] },
    );
    expect(t.dims).toEqual([1, 32, 32]);
    expect(t.data[0]).toBe(-1);
    expect(t.data[2 * 32 + 2]).toBeCloseTo((128 / 255 - 0.5) / 0.5, 6);
  });
});

describe('validatePreprocess', () => {
  const base: Preprocess = { channels: 3, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
  it.each([
    [{ mean: [0.5, 0.5] }, /--mean has 2 values but the model takes 3 channels/],
    [{ std: [0.5, 0.5, 0.5, 0.5] }, /--std has 4 values/],
    [{ std: [0.5, 0, 0.5] }, /--std values must be greater than 0/],
    [{ mean: [NaN] }, /--mean values must be finite/],
    [{ size: 0 }, /--size must be a positive integer/],
    [{ cropPct: -1 }, /--crop-pct/],
    [{ pad: 1.5 }, /pad must be a non-negative integer/],
    [{ channels: 2 }, /channels must be 1 or 3/],
  ])('rejects %j', (patch, message) => {
    const p = { ...base, ...patch } as Preprocess;
    expect(() => validatePreprocess(p)).toThrow(QuantlensError);
    expect(() => validatePreprocess(p)).toThrow(message);
  });

  it('accepts one mean/std value for every channel', () => {
    expect(() => validatePreprocess({ channels: 3, mean: [0.5], std: [0.25] })).not.toThrow();
  });
});

describe('imageBatch', () => {
  it('stacks images into NCHW and names both images when sizes differ', () => {
    const p: Preprocess = { channels: 1, mean: [0], std: [1] };
    const b = imageBatch([grey(2, 2, () => 0), grey(2, 2, () => 255)], p, (k) => `img${k}`);
    expect(b.dims).toEqual([2, 1, 2, 2]);
    expect(Array.from(b.data as Float32Array)).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    expect(() => imageBatch([grey(2, 2, () => 0), grey(3, 2, () => 0)], p, (k) => `img${k}`)).toThrow(
      /img1 is 3x2 but img0 is 2x2/,
    );
  });
});
