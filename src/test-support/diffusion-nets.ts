// Small graphs for the diffusion and FID tests, built in code: a stand-in "UNet" with a float32 time step, and a
// random-weight CNN feature network with `features` and `logits` outputs (until the shipped fmnist-features exists).

import { GraphBuilder, makeModel } from '../onnx/builder.js';
import type { Model } from '../onnx/ir.js';
import { mulberry32 } from '../data/calib.js';

/** eps = 0.5 x + 0.001 t (t broadcast over the image): inputs `sample` [batch, 1, 4, 4] and `timestep` [batch] float32. */
export function floatTimeUNet(): Model {
  const b = new GraphBuilder();
  const x = b.input('sample', 'float32', ['batch', 1, 4, 4]);
  const t = b.input('timestep', 'float32', ['batch']);
  const half = b.init('half', Float32Array.of(0.5), []);
  const milli = b.init('milli', Float32Array.of(0.001), []);
  const shape = b.init('shape', BigInt64Array.of(-1n, 1n, 1n, 1n), [4]);
  const tx = b.op('Reshape', [t, shape]);
  const y = b.op('Add', [b.op('Mul', [x, half]), b.op('Mul', [tx, milli])], {}, { outputNames: ['noise_pred'] });
  b.output(y, 'float32', ['batch', 1, 4, 4]);
  return makeModel(b.graph, 17);
}

/**
 * Conv(1 -> 8, 3x3, pad 1) -> Relu -> GlobalAveragePool -> Flatten = `features` [batch, 8];
 * Gemm(8 -> 10) = `logits`. Input `pixel_values` [batch, 1, side, side]; weights seeded.
 */
export function featureCnn(side = 8, seed = 1): Model {
  const r = mulberry32(seed);
  const rand = (n: number, s: number) => Float32Array.from({ length: n }, () => (r() * 2 - 1) * s);
  const b = new GraphBuilder();
  const x = b.input('pixel_values', 'float32', ['batch', 1, side, side]);
  const w = b.init('conv.weight', rand(8 * 9, 0.6), [8, 1, 3, 3]);
  const bias = b.init('conv.bias', rand(8, 0.1), [8]);
  const h = b.op('Relu', [b.op('Conv', [x, w, bias], { pads: [1, 1, 1, 1], kernel_shape: [3, 3] })]);
  const f = b.op('Flatten', [b.op('GlobalAveragePool', [h])], { axis: 1 }, { outputNames: ['features'] });
  const hw = b.init('head.weight', rand(10 * 8, 2), [10, 8]);
  const hb = b.init('head.bias', rand(10, 0.1), [10]);
  const logits = b.op('Gemm', [f, hw, hb], { transB: 1 }, { outputNames: ['logits'] });
  b.output(f, 'float32', ['batch', 8]);
  b.output(logits, 'float32', ['batch', 10]);
  return makeModel(b.graph, 17);
}
