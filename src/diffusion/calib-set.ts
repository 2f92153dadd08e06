// Time step-aware calibration sets (Q-Diffusion §1 of the spec): run the FP sampler on n trajectories and keep
// the UNet inputs (x_t, t) at selected sampling steps, n per kept step. Stored as arrays named after the model's
// own inputs (so `quantize <unet> --data calib.npz` binds them by name) plus `step`, ordered by step, then sample.
//
// Step selection over the nsteps sampling steps (index 0 = noisiest):
//   uniform  range(0, nsteps, c), the official get_train_samples; c = --interval, or nsteps // --kept
//            (so it may keep more than --kept steps when kept does not divide nsteps, as the official code)
//   first / middle / last   the paper's ablation: the same number K of kept steps as uniform (same |D|), spread
//            evenly (start + floor(i W / K)) over a window of W = max(K, nsteps // 2) consecutive steps: the first
//            W steps, the last W, or the W in the middle (start floor((nsteps − W) / 2)). At 100 steps and K = 20
//            that is "the first / middle / last 50 steps".

import type { Model } from '../onnx/ir.js';
import { usageError } from '../errors.js';
import type { HostTensor } from '../util/host-tensor.js';
import type { BatchCheckpoint } from './checkpoint.js';
import { DiffusionSampler, type SamplerConfig, type SamplerOptions } from './sampler.js';
import { checkCounts } from './run.js';

export type CalibSelect = 'uniform' | 'first' | 'middle' | 'last';

export function parseSelect(s: string): CalibSelect {
  if (s !== 'uniform' && s !== 'first' && s !== 'middle' && s !== 'last')
    throw usageError(`--select must be uniform, first, middle or last, got ${s}`);
  return s;
}

export interface StepSelection {
  /** interval c between kept steps (uniform), or given via kept */
  interval?: number;
  kept?: number;
  select: CalibSelect;
}

/** Sampling-step indices to keep, ascending. */
export function selectSteps(nsteps: number, sel: StepSelection): number[] {
  if ((sel.interval === undefined) === (sel.kept === undefined))
    throw usageError(
      'give either --interval c or --kept K',
      'the paper keeps 20 of 100 steps: --kept 20 (= --interval 5)',
    );
  if (sel.kept !== undefined && (!Number.isInteger(sel.kept) || sel.kept < 1 || sel.kept > nsteps))
    throw usageError(`--kept must be an integer in 1..${nsteps} (the sampling steps), got ${sel.kept}`);
  const c = sel.interval ?? Math.floor(nsteps / sel.kept!);
  if (!Number.isInteger(c) || c < 1 || c > nsteps)
    throw usageError(`--interval must be an integer in 1..${nsteps} (the sampling steps), got ${c}`);
  const uniform: number[] = [];
  for (let s = 0; s < nsteps; s += c) uniform.push(s);
  if (sel.select === 'uniform') return uniform;
  const K = uniform.length;
  const W = Math.max(K, Math.floor(nsteps / 2));
  const start = sel.select === 'first' ? 0 : sel.select === 'last' ? nsteps - W : Math.floor((nsteps - W) / 2);
  return Array.from({ length: K }, (_, i) => start + Math.floor((i * W) / K));
}

export interface CalibSetOptions extends SamplerOptions, StepSelection {
  /** n: trajectories, i.e. samples per kept step */
  perStep: number;
  batch: number;
  checkpoint?: BatchCheckpoint;
  onProgress?: (done: number, total: number) => void;
}

export interface CalibSet {
  /** `<x input>`: [K n, C, H, W] float32, `<t input>`: [K n] in the model's dtype, `step`: [K n] int64 */
  arrays: Map<string, HostTensor>;
  /** kept sampling-step indices and their time steps */
  steps: number[];
  timesteps: number[];
  /** sampling steps of the run */
  nsteps: number;
}

export async function buildCalibrationSet(
  model: Model,
  config: SamplerConfig,
  opts: CalibSetOptions,
): Promise<CalibSet> {
  checkCounts(opts.perStep, opts.batch);
  const { perStep: n, batch, checkpoint, onProgress, interval: _i, kept: _k, select: _s, ...samplerOpts } = opts;
  const sampler = await DiffusionSampler.create(model, config, samplerOpts);
  try {
    const nsteps = sampler.pairs.length;
    const steps = selectSteps(nsteps, opts);
    const slot = new Map(steps.map((s, k) => [s, k]));
    const size = sampler.io.shape[0] * sampler.io.shape[1] * sampler.io.shape[2];
    const K = steps.length;
    const xs = new Float32Array(K * n * size);
    for (let index = 0, first = 0; first < n; index++, first += batch) {
      const count = Math.min(batch, n - first);
      // This batch's kept inputs, step-major: [K, count, C, H, W].
      let part: Float32Array;
      const saved = checkpoint?.has(index) === true ? checkpoint.load(index).get('x') : undefined;
      if (saved !== undefined) {
        if (saved.data.length !== K * count * size)
          throw usageError(
            `checkpoint batch ${index} in ${checkpoint!.dir} does not match this run`,
            'drop --resume to start over',
          );
        part = saved.data as Float32Array;
      } else {
        const buf = new Float32Array(K * count * size);
        await sampler.sampleBatch(first, count, {
          lastStep: steps[K - 1]!,
          onStep: (e) => {
            const k = slot.get(e.step);
            if (k !== undefined) buf.set(e.x.data as Float32Array, k * count * size);
          },
        });
        part = buf;
        checkpoint?.save(
          index,
          new Map([['x', { dtype: 'float32', dims: [K, count, ...sampler.io.shape], data: buf }]]),
        );
      }
      for (let k = 0; k < K; k++)
        xs.set(part.subarray(k * count * size, (k + 1) * count * size), (k * n + first) * size);
      onProgress?.(first + count, n);
    }
    const timesteps = steps.map((s) => sampler.pairs[s]!.t);
    const stepArr = new BigInt64Array(K * n);
    const tArr =
      sampler.io.tDtype === 'int64'
        ? new BigInt64Array(K * n)
        : sampler.io.tDtype === 'int32'
          ? new Int32Array(K * n)
          : new Float32Array(K * n);
    for (let k = 0; k < K; k++) {
      stepArr.fill(BigInt(steps[k]!), k * n, (k + 1) * n);
      if (tArr instanceof BigInt64Array) tArr.fill(BigInt(timesteps[k]!), k * n, (k + 1) * n);
      else tArr.fill(timesteps[k]!, k * n, (k + 1) * n);
    }
    const arrays = new Map<string, HostTensor>([
      [sampler.io.x, { dtype: 'float32', dims: [K * n, ...sampler.io.shape], data: xs }],
      [sampler.io.t, { dtype: sampler.io.tDtype, dims: [K * n], data: tArr }],
      ['step', { dtype: 'int64', dims: [K * n], data: stepArr }],
    ]);
    return { arrays, steps, timesteps, nsteps };
  } finally {
    await sampler.release();
  }
}
