// Samples to pixels: crop the padding a model was trained with, map [−1, 1] to [0, 1] as (x + 1) / 2 clamped
// (the official sampler's output), then to uint8 the way torchvision's save_image does (floor(255 v + 0.5)), so
// generated images reach the FID feature network exactly as saved PNGs would. Pure computation.

import { usageError } from '../errors.js';
import type { HostTensor } from '../util/host-tensor.js';

/** uint8 images, planar per image: [n, channels, height, width]. */
export interface Uint8Images {
  data: Uint8Array;
  n: number;
  channels: number;
  height: number;
  width: number;
}

export function toUint8Images(x0: HostTensor, pad = 0): Uint8Images {
  if (x0.dims.length !== 4) throw usageError(`samples must be [n, C, H, W], got [${x0.dims.join(', ')}]`);
  const [n, c, H, W] = x0.dims as [number, number, number, number];
  if (!Number.isInteger(pad) || pad < 0 || 2 * pad >= Math.min(H, W))
    throw usageError(`padding ${pad} does not fit ${H}x${W} samples`);
  const h = H - 2 * pad;
  const w = W - 2 * pad;
  const src = x0.data as Float32Array;
  const data = new Uint8Array(n * c * h * w);
  let o = 0;
  for (let p = 0; p < n * c; p++)
    for (let y = 0; y < h; y++) {
      const row = p * H * W + (y + pad) * W + pad;
      for (let x = 0; x < w; x++) {
        const v = Math.min(1, Math.max(0, (src[row + x]! + 1) / 2));
        data[o++] = Math.floor(v * 255 + 0.5);
      }
    }
  return { data, n, channels: c, height: h, width: w };
}

/** A grid of the images, row-major, `gap` black pixels around and between them (torchvision make_grid's look). */
export function imageGrid(
  imgs: Uint8Images,
  cols = Math.ceil(Math.sqrt(imgs.n)),
  gap = 2,
): { data: Uint8Array; width: number; height: number; channels: number } {
  const { n, channels: c, height: h, width: w } = imgs;
  const rows = Math.ceil(n / cols);
  const width = cols * (w + gap) + gap;
  const height = rows * (h + gap) + gap;
  const data = new Uint8Array(width * height * c); // interleaved (HWC), what image encoders take
  for (let i = 0; i < n; i++) {
    const ox = gap + (i % cols) * (w + gap);
    const oy = gap + Math.floor(i / cols) * (h + gap);
    for (let ch = 0; ch < c; ch++)
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++)
          data[((oy + y) * width + ox + x) * c + ch] = imgs.data[((i * c + ch) * h + y) * w + x]!;
  }
  return { data, width, height, channels: c };
}
