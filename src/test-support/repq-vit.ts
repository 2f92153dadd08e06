// Shared by the RepQ-ViT tests: seeded image batches and running a model on them.
// (test-support/ is not part of the build.)

import type { Model } from '../onnx/ir.js';
import { Session, type Feeds } from '../runtime/index.js';

/** A seeded batch of roughly standard-normal images for a model with one NCHW `pixel_values` input. */
export function seededImages(model: Model, n: number, seed = 7): Feeds {
  const shape = model.graph.inputs[0]!.type;
  const dims = shape !== undefined && 'shape' in shape ? shape.shape : undefined;
  const [c, h, w] = [dims?.[1], dims?.[2], dims?.[3]].map((d) => (typeof d === 'number' ? d : 16)) as [
    number,
    number,
    number,
  ];
  let s = seed >>> 0 || 1;
  const uniform = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
  const data = new Float32Array(n * c * h * w);
  for (let i = 0; i < data.length; i++)
    data[i] = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  return { pixel_values: { dtype: 'float32', dims: [n, c, h, w], data } };
}

/** The model's outputs on `feeds` (one session, released). */
export async function runModel(model: Model, feeds: Feeds): Promise<Record<string, Float32Array>> {
  const s = await Session.create(model, { threads: 1 });
  try {
    const out = await s.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
  } finally {
    await s.release();
  }
}

/** max |a − b| / max |b|. */
export function relativeGap(a: Float32Array, b: Float32Array): number {
  let gap = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    gap = Math.max(gap, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return gap / scale;
}
