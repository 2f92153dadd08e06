// A whole sampling run: M samples in batches of B, each batch either computed or taken from a checkpoint.
// Sample i is always seeded by (seed, i), so the batch size changes only how work is grouped, and a resumed run
// continues exactly where the interrupted one stopped.

import type { Model } from '../onnx/ir.js';
import { usageError } from '../errors.js';
import type { HostTensor } from '../util/host-tensor.js';
import type { BatchCheckpoint, RunMeta } from './checkpoint.js';
import { DiffusionSampler, type SamplerConfig, type SamplerOptions, type StepCallback } from './sampler.js';

export interface RunOptions extends SamplerOptions {
  samples: number;
  batch: number;
  checkpoint?: BatchCheckpoint;
  /** called for the steps of computed batches (not for batches read back from a checkpoint) */
  onStep?: StepCallback;
  onProgress?: (done: number, total: number) => void;
}

export interface RunBatch {
  index: number;
  first: number;
  /** x_0, [count, C, H, W] float32 */
  x0: HostTensor;
  /** sampling wall time of this batch (0 when read from the checkpoint) */
  seconds: number;
}

/** What identifies a run for its checkpoint: anything that changes the samples. */
export function runMeta(kind: string, modelSha256: string, config: SamplerConfig, extra: RunMeta): RunMeta {
  return {
    kind,
    model: modelSha256,
    sampler: config.sampler,
    steps: config.steps,
    skip: config.skip,
    eta: config.eta,
    betaSchedule: config.schedule.betaSchedule,
    betaStart: config.schedule.betaStart,
    betaEnd: config.schedule.betaEnd,
    trainSteps: config.schedule.trainSteps,
    ...extra,
  };
}

export function checkCounts(samples: number, batch: number): void {
  if (!Number.isInteger(samples) || samples < 1)
    throw usageError(`--samples must be a positive integer, got ${samples}`);
  if (!Number.isInteger(batch) || batch < 1) throw usageError(`--batch must be a positive integer, got ${batch}`);
}

export async function* sampleRun(model: Model, config: SamplerConfig, opts: RunOptions): AsyncGenerator<RunBatch> {
  checkCounts(opts.samples, opts.batch);
  const { samples, batch, checkpoint, onStep, onProgress, ...samplerOpts } = opts;
  let sampler: DiffusionSampler | undefined;
  try {
    for (let index = 0, first = 0; first < samples; index++, first += batch) {
      const count = Math.min(batch, samples - first);
      let x0: HostTensor;
      let seconds = 0;
      if (checkpoint?.has(index) === true) {
        const saved = checkpoint.load(index).get('x0');
        if (saved === undefined || saved.dims[0] !== count)
          throw usageError(
            `checkpoint batch ${index} in ${checkpoint.dir} does not match this run`,
            'drop --resume to start over',
          );
        x0 = saved;
      } else {
        sampler ??= await DiffusionSampler.create(model, config, samplerOpts);
        const start = performance.now();
        x0 = await sampler.sampleBatch(first, count, onStep === undefined ? {} : { onStep });
        seconds = (performance.now() - start) / 1000;
        checkpoint?.save(index, new Map([['x0', x0]]));
      }
      onProgress?.(first + count, samples);
      yield { index, first, x0, seconds };
    }
  } finally {
    await sampler?.release();
  }
}
