// Image preprocessing: uint8 pixels -> normalized float32 CHW, as timm's eval transform does it
// (Resize(floor(size / cropPct)) -> CenterCrop(size) -> ToTensor -> Normalize), plus zero padding and channel
// conversion for models trained on padded or grey images. Pure computation: no file access, no model knowledge.
//
// Order of operations, fixed because results depend on it:
//   1. channels: RGB -> grey by ITU-R 601 luma (0.299 R + 0.587 G + 0.114 B, PIL's convert('L')
//      weights without its rounding to uint8)
//   2. resize the shorter side (bilinear, antialiased like PIL), only when `size` or `resizeTo` is set
//   3. center crop to `size` x `size` (offsets rounded half to even, like torchvision's int(round(...)))
//   4. zero-pad by `pad` on every side, in [0,1] space: padded pixels are black (0), then normalized like the rest,
//      i.e. they become -mean/std, the same as `transforms.Pad(pad)` placed before `Normalize`
//   5. grey -> 3 channels by repetition, then (x - mean[c]) / std[c]
// So the output side is size + 2 * pad: Fashion-MNIST 28x28 into a 32x32 model is { size: 28, pad: 2 } (or no
// size at all, with pad 2).

import { usageError } from '../errors.js';
import { resizeBilinear } from './resize.js';

export interface Preprocess {
  /** Center-crop side (before padding). Unset: keep the image's own size. */
  size?: number;
  /** timm's crop_pct: resize the shorter side to floor(size / cropPct) before cropping (default 1). */
  cropPct?: number;
  /** Zero padding in pixels on each side, applied after the crop. */
  pad?: number;
  channels: 1 | 3;
  /** Per-channel mean and std in [0,1] units; one value is used for every channel. */
  mean: number[];
  std: number[];
  /** Explicit shorter-side length for the resize; overrides floor(size / cropPct). */
  resizeTo?: number;
}

/** Decoded pixels: `hwc` interleaved (what image decoders give) or `chw` planar (CIFAR binary); 1 or 3 channels. */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3;
  layout: 'hwc' | 'chw';
}

/** Plain [0,1] scaling with no resize: what a dataset uses when the caller gives no preprocessing. */
export function defaultPreprocess(channels: 1 | 3): Preprocess {
  return { channels, mean: [0], std: [1] };
}

const isPosInt = (v: number) => Number.isInteger(v) && v > 0;

/** Throws a usage error naming the first bad field. */
export function validatePreprocess(p: Preprocess): void {
  if (p.channels !== 1 && p.channels !== 3) throw usageError(`channels must be 1 or 3, got ${String(p.channels)}`);
  for (const [key, values] of [
    ['mean', p.mean],
    ['std', p.std],
  ] as const) {
    if (values.length !== 1 && values.length !== p.channels)
      throw usageError(
        `--${key} has ${values.length} values but the model takes ${p.channels} channel${p.channels === 1 ? '' : 's'}`,
        `give 1 or ${p.channels} values`,
      );
    if (values.some((v) => !Number.isFinite(v))) throw usageError(`--${key} values must be finite numbers`);
  }
  if (p.std.some((v) => v <= 0)) throw usageError('--std values must be greater than 0');
  if (p.size !== undefined && !isPosInt(p.size)) throw usageError(`--size must be a positive integer, got ${p.size}`);
  if (p.resizeTo !== undefined && !isPosInt(p.resizeTo))
    throw usageError(`resize length must be a positive integer, got ${p.resizeTo}`);
  if (p.cropPct !== undefined && !(Number.isFinite(p.cropPct) && p.cropPct > 0))
    throw usageError(`--crop-pct must be a number greater than 0, got ${p.cropPct}`);
  if (p.pad !== undefined && !(Number.isInteger(p.pad) && p.pad >= 0))
    throw usageError(`pad must be a non-negative integer, got ${p.pad}`);
}

/** Half to even, as Python's round() that torchvision's center crop uses. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Float [0,1] planes of the image, already reduced to grey when the model wants one channel. */
function toPlanes(img: RawImage, grey: boolean): { planes: Float32Array; count: number } {
  const n = img.width * img.height;
  const { data } = img;
  if (img.channels === 1) {
    const planes = new Float32Array(n);
    for (let i = 0; i < n; i++) planes[i] = data[i]! / 255;
    return { planes, count: 1 };
  }
  // Strides of one pixel's R, G, B for either layout.
  const [step, cs] = img.layout === 'hwc' ? [3, 1] : [1, n];
  if (grey) {
    const planes = new Float32Array(n);
    for (let i = 0, j = 0; i < n; i++, j += step)
      planes[i] = (0.299 * data[j]! + 0.587 * data[j + cs]! + 0.114 * data[j + 2 * cs]!) / 255;
    return { planes, count: 1 };
  }
  const planes = new Float32Array(3 * n);
  for (let c = 0; c < 3; c++) for (let i = 0, j = c * cs; i < n; i++, j += step) planes[c * n + i] = data[j]! / 255;
  return { planes, count: 3 };
}

/** Size of the shorter side after the resize step, or undefined when there is no resize. */
function resizeTarget(p: Preprocess): number | undefined {
  if (p.resizeTo !== undefined) return p.resizeTo;
  if (p.size === undefined) return undefined;
  // floor, as timm's transforms_imagenet_eval (math.floor(img_size / crop_pct)).
  return Math.floor(p.size / (p.cropPct ?? 1));
}

/** [C, H, W] of the output for an image of `width` x `height`. */
export function outputDims(p: Preprocess, width: number, height: number): [number, number, number] {
  const pad = p.pad ?? 0;
  let h = height;
  let w = width;
  if (p.size !== undefined) h = w = p.size;
  else {
    const t = resizeTarget(p);
    if (t !== undefined) [h, w] = resizedDims(height, width, t);
  }
  return [p.channels, h + 2 * pad, w + 2 * pad];
}

/** torchvision's Resize(int): the shorter side becomes `target`, the longer one int(target * long / short). */
function resizedDims(h: number, w: number, target: number): [number, number] {
  if (w <= h) return [Math.floor((target * h) / w), target];
  return [target, Math.floor((target * w) / h)];
}

/** Center-crop window in an h x w image: origin (negative where the crop is larger, filled with 0) and size. */
function cropWindow(p: Preprocess, h: number, w: number): { top: number; left: number; ch: number; cw: number } {
  if (p.size === undefined) return { top: 0, left: 0, ch: h, cw: w };
  const c = p.size;
  const at = (n: number) => (n >= c ? roundHalfEven((n - c) / 2) : -Math.floor((c - n) / 2));
  return { top: at(h), left: at(w), ch: c, cw: c };
}

/**
 * Preprocess one image into `out` at `offset` (C*H*W floats, dims from `outputDims`). The caller validates `p`
 * once; this runs per image.
 */
export function preprocessInto(img: RawImage, p: Preprocess, out: Float32Array, offset: number): void {
  const src = toPlanes(img, p.channels === 1);
  const count = src.count;
  let planes = src.planes;
  let h = img.height;
  let w = img.width;
  let { top, left, ch, cw } = cropWindow(p, h, w);
  const t = resizeTarget(p);
  if (t !== undefined && Math.min(h, w) !== t) {
    const [nh, nw] = resizedDims(h, w, t);
    ({ top, left, ch, cw } = cropWindow(p, nh, nw));
    // Resize only the part of the image the crop keeps; from here on that part is "the image".
    const y0 = Math.max(0, top);
    const x0 = Math.max(0, left);
    const win = { top: y0, left: x0, height: Math.min(nh, top + ch) - y0, width: Math.min(nw, left + cw) - x0 };
    planes = resizeBilinear(planes, count, h, w, nh, nw, win);
    [h, w, top, left] = [win.height, win.width, top - y0, left - x0];
  }
  const pad = p.pad ?? 0;
  const oh = ch + 2 * pad;
  const ow = cw + 2 * pad;
  // Output columns [x0, x1) and rows [y0, y1) show image pixels: inside the crop window (not padding) and inside
  // the image (a crop larger than the image shows zeros there); everything else is a zero pixel.
  const x0 = Math.max(pad, pad - left);
  const x1 = Math.min(pad + cw, pad - left + w);
  const y0 = Math.max(pad, pad - top);
  const y1 = Math.min(pad + ch, pad - top + h);
  for (let c = 0; c < p.channels; c++) {
    const plane = count === 1 ? 0 : c * h * w;
    const mean = p.mean.length === 1 ? p.mean[0]! : p.mean[c]!;
    const inv = 1 / (p.std.length === 1 ? p.std[0]! : p.std[c]!);
    const zero = (0 - mean) * inv; // not -mean * inv, which is -0 for mean 0
    const base = offset + c * oh * ow;
    for (let y = 0; y < oh; y++) {
      const o = base + y * ow;
      if (y < y0 || y >= y1 || x1 <= x0) {
        out.fill(zero, o, o + ow);
        continue;
      }
      out.fill(zero, o, o + x0);
      const s = plane + (y - pad + top) * w - pad + left;
      for (let x = x0; x < x1; x++) out[o + x] = (planes[s + x]! - mean) * inv;
      out.fill(zero, o + x1, o + ow);
    }
  }
}
