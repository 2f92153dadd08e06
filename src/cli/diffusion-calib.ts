// Calibration data for a diffusion UNet in `quantize`: an NPZ of UNet inputs (named after the inputs, or xs/ts),
// or, without --data, a time step-aware set built on the spot by the FP sampler (Q-Diffusion §1: keep x_t and t
// at every c-th sampling step, n trajectories; by default 20 kept steps of 100 x 256 = 5,120). The set's inputs are
// held (5,120 x_t of a 32x32 image are 20 MB); calibration streams them in batches (--calib-batch, default 64) in
// a seeded random order, so the first batch, which search-based observers calibrate on, spans the time steps.

import { tensorDataset } from '../data/tensor-dataset.js';
import { calibrationIndices } from '../data/calib.js';
import { readNpz } from '../data/npz.js';
import {
  ddimTimesteps,
  parseSelect,
  selectSteps,
  unetCalibArrays,
  unetIO,
  type SamplerConfig,
  type StepSelection,
  type UNetIO,
} from '../diffusion/index.js';
import { bindFeeds, modelInputs } from '../runtime/index.js';
import type { Dataset } from '../data/types.js';
import { usageError } from '../errors.js';
import { int, str, type OptionSpec, type Parsed } from './args.js';
import type { CalibData } from './calib-data.js';
import type { LoadedModel } from './common.js';
import { samplerConfig, samplerOptions } from './diffusion-options.js';
import { buildStepAwareSet } from './step-calib.js';

const { seed: _seed, ...sampler } = samplerOptions;

/** quantize's flags for building the set (seed is shared with the calibration subset). */
export const diffusionCalibOptions: Record<string, OptionSpec> = {
  kept: { type: 'string', value: 'K', help: 'UNet without --data: kept sampling steps (default 20)' },
  interval: {
    type: 'string',
    value: 'c',
    help: 'UNet without --data: keep every c-th sampling step (not with --kept)',
  },
  'per-step': {
    type: 'string',
    value: 'n',
    help: 'UNet without --data: samples per kept step (default 256, or --calib / kept steps)',
  },
  select: { type: 'string', value: 'name', help: 'UNet without --data: uniform (default), first, middle or last' },
  ...sampler,
  batch: { type: 'string', value: 'B', help: 'UNet without --data: trajectories per sampling batch', default: '64' },
};

export const DEFAULT_KEPT = 20;
export const DEFAULT_PER_STEP = 256;
export const DEFAULT_DIFFUSION_CALIB_BATCH = 64;

/** What a generated set was built from, for printing and the sidecar. */
export interface GeneratedCalibInfo {
  sampler: SamplerConfig['sampler'];
  steps: number;
  skip: SamplerConfig['skip'];
  eta: number;
  schedule: SamplerConfig['schedule'];
  select: StepSelection['select'];
  /** sampling-step indices kept (0 = noisiest) and the time steps the UNet saw there */
  keptSteps: number[];
  timesteps: number[];
  perStep: number;
  /** K · perStep built; calibration uses `n` of them */
  built: number;
  seconds: number;
}

/** The UNet's inputs when `loaded` is a noise-prediction UNet (by its task, or by its inputs when none is recorded). */
export function diffusionUNet(loaded: LoadedModel): UNetIO | undefined {
  const task = loaded.info.task;
  if (task !== undefined && task !== 'diffusion') return undefined;
  if (task === 'diffusion' || loaded.info.scheduler !== undefined) return unetIO(loaded.model);
  try {
    return unetIO(loaded.model);
  } catch {
    return undefined;
  }
}

function calibFrom(
  p: Parsed,
  loaded: LoadedModel,
  dataset: Dataset,
  dataArg: string,
  n: number,
  extra: Partial<CalibData>,
): CalibData {
  if (str(p, 'split') !== undefined) throw usageError(`--split does not apply to ${dataArg}`);
  if (n > dataset.size)
    throw usageError(
      `--calib ${n} asks for more items than the set has (${dataset.size})`,
      `use --calib ${dataset.size}`,
    );
  const seed = int(p, 'seed', { min: 0 }) ?? 0;
  // All n in a seeded random order (a subset when n is less than the set).
  const indices = calibrationIndices(dataset.size, n, seed);
  const batch = int(p, 'calib-batch', { min: 1 }) ?? Math.min(DEFAULT_DIFFUSION_CALIB_BATCH, n);
  const inputs = modelInputs(loaded.model);
  return {
    dataset,
    dataArg,
    split: 'none',
    indices,
    n,
    seed,
    batch,
    async *feeds() {
      for await (const b of dataset.batches(batch, { indices })) yield bindFeeds(inputs, b.inputs);
    },
    ...extra,
  };
}

/** An NPZ of UNet inputs; all of it by default. */
export function openUnetNpz(p: Parsed, path: string, loaded: LoadedModel, io: UNetIO): CalibData {
  const dataset = tensorDataset(unetCalibArrays(readNpz(path), io, path), path);
  return calibFrom(p, loaded, dataset, path, int(p, 'calib', { min: 1 }) ?? dataset.size, {});
}

/** Builds the time step-aware set with the FP sampler (resumable with --resume, like calib-set). */
export async function generateUnetCalib(p: Parsed, loaded: LoadedModel, quiet: boolean): Promise<CalibData> {
  const config = samplerConfig(p, loaded, quiet);
  const interval = int(p, 'interval', { min: 1 });
  const keptFlag = int(p, 'kept', { min: 1 });
  if (interval !== undefined && keptFlag !== undefined) throw usageError('give --kept or --interval, not both');
  const select = parseSelect(str(p, 'select') ?? 'uniform');
  const sel: StepSelection = interval === undefined ? { select, kept: keptFlag ?? DEFAULT_KEPT } : { select, interval };
  const nsteps = ddimTimesteps(config.schedule.trainSteps, config.steps, config.skip).length;
  const K = selectSteps(nsteps, sel).length;
  const calib = int(p, 'calib', { min: 1 });
  const perStepFlag = int(p, 'per-step', { min: 1 });
  if (calib !== undefined && perStepFlag !== undefined && calib !== K * perStepFlag)
    throw usageError(
      `--calib ${calib} is not ${K} kept steps x --per-step ${perStepFlag}`,
      'give --calib (the total) or --per-step, not both',
    );
  const perStep = perStepFlag ?? (calib === undefined ? DEFAULT_PER_STEP : Math.ceil(calib / K));
  const seed = int(p, 'seed', { min: 0 }) ?? 0;
  const { set, seconds } = await buildStepAwareSet(p, loaded, config, 'quantize-calib', {
    seed,
    perStep,
    selection: sel,
    quiet,
  });
  const built = set.steps.length * perStep;
  const generated: GeneratedCalibInfo = {
    sampler: config.sampler,
    steps: config.steps,
    skip: config.skip,
    eta: config.eta,
    schedule: config.schedule,
    select,
    keptSteps: set.steps,
    timesteps: set.timesteps,
    perStep,
    built,
    seconds,
  };
  const dataset = tensorDataset(set.arrays, 'time step-aware calibration set');
  return calibFrom(p, loaded, dataset, 'time step-aware (FP sampler)', calib ?? built, { generated });
}
