// Seeded feeds for the tiny-unet fixtures (tiny-unet-op17.onnx): `x` [n, 1, 8, 8] uniform in [-1, 1) and `t` [n]
// int64 time steps in [0, 1000), one generator for every reconstruction and q-diffusion test.

import { mulberry32 } from '../data/calib.js';
import type { Feeds } from '../runtime/index.js';

export function tinyUNetFeeds(n: number, seed: number): Feeds {
  const r = mulberry32(seed);
  return {
    x: { dtype: 'float32', dims: [n, 1, 8, 8], data: Float32Array.from({ length: n * 64 }, () => r() * 2 - 1) },
    t: { dtype: 'int64', dims: [n], data: BigInt64Array.from({ length: n }, () => BigInt(Math.floor(r() * 1000))) },
  };
}
