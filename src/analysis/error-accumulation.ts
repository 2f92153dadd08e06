// Q-Diffusion's "quantization errors accumulate across time steps" as numbers: run the float UNet and the
// fake-quantized one through the same sampler from the same seeded noise, and measure the MSE between their x_t
// at every step (the quantized chain is fed its own previous output, so errors compound) and of the final x_0.
// Memory: one batch of the float trajectory at a time. Imports the diffusion sampler.

import type { Model } from '../onnx/ir.js';
import type { SessionOptions } from '../runtime/index.js';
import { DiffusionSampler, type SamplerConfig } from '../diffusion/index.js';
import type { ErrorAccumulation } from './types.js';

export interface ErrorAccumulationOptions extends SessionOptions {
  samples: number;
  batch: number;
  seed: number;
  label: string;
  onProgress?: (done: number, total: number) => void;
}

export async function measureErrorAccumulation(
  fp: Model,
  quantized: Model,
  config: SamplerConfig,
  opts: ErrorAccumulationOptions,
): Promise<ErrorAccumulation> {
  const session = { ...(opts.threads === undefined ? {} : { threads: opts.threads }), seed: opts.seed };
  const a = await DiffusionSampler.create(fp, config, session);
  const b = await DiffusionSampler.create(quantized, config, session);
  const steps = a.pairs.length;
  // index `steps` is x_0, the sampler's result
  const sums = new Float64Array(steps + 1);
  let values = 0;
  try {
    for (let first = 0; first < opts.samples; first += opts.batch) {
      const count = Math.min(opts.batch, opts.samples - first);
      const trajectory: Float32Array[] = [];
      const x0 = await a.sampleBatch(first, count, { onStep: (e) => void trajectory.push(e.x.data as Float32Array) });
      trajectory.push(x0.data as Float32Array);
      let k = 0;
      const add = (x: Float32Array) => {
        const ref = trajectory[k]!;
        let s = 0;
        for (let i = 0; i < x.length; i++) s += (x[i]! - ref[i]!) ** 2;
        sums[k++]! += s;
      };
      const q0 = await b.sampleBatch(first, count, { onStep: (e) => add(e.x.data as Float32Array) });
      add(q0.data as Float32Array);
      values += x0.data.length;
      opts.onProgress?.(first + count, opts.samples);
    }
  } finally {
    await Promise.all([a.release(), b.release()]);
  }
  return {
    steps: Array.from({ length: steps + 1 }, (_, i) => i),
    mse: Array.from(sums, (s) => s / Math.max(values, 1)),
    label: opts.label,
  };
}
