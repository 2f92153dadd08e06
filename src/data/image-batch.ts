// Stacks decoded images into one float32 NCHW batch tensor, preprocessing each straight into its slot.

import { dataError } from '../errors.js';
import type { HostTensor } from '../util/host-tensor.js';
import { outputDims, preprocessInto, type Preprocess, type RawImage } from './preprocess.js';

/** `names(k)` says where image k came from, for the error when sizes differ. */
export function imageBatch(images: readonly RawImage[], p: Preprocess, names: (k: number) => string): HostTensor {
  const first = images[0];
  if (first === undefined) return { dtype: 'float32', dims: [0, p.channels, 0, 0], data: new Float32Array(0) };
  const dims = outputDims(p, first.width, first.height);
  const per = dims[0] * dims[1] * dims[2];
  const data = new Float32Array(images.length * per);
  for (const [k, img] of images.entries()) {
    const d = outputDims(p, img.width, img.height);
    if (d[1] !== dims[1] || d[2] !== dims[2])
      throw dataError(
        `${names(k)} is ${img.width}x${img.height} but ${names(0)} is ${first.width}x${first.height}`,
        'images of different sizes need a --size to resize and crop them to',
      );
    preprocessInto(img, p, data, k * per);
  }
  return { dtype: 'float32', dims: [images.length, ...dims], data };
}
