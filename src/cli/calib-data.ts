// Calibration feeds for quantize: a seeded subset of --data (train split by default), bound to the model inputs.
// For a diffusion UNet: an NPZ of its inputs, or without --data a time step-aware set built by the FP sampler
// (diffusion-calib.ts).

import { calibrationIndices } from '../data/calib.js';
import type { Dataset } from '../data/types.js';
import type { LoadedModel } from './common.js';
import { resolvePreprocess } from './common.js';
import { openDataArg } from './data-arg.js';
import { bindFeeds, modelInputs, type Feeds } from '../runtime/index.js';
import { usageError } from '../errors.js';
import { int, str, type OptionSpec, type Parsed } from './args.js';
import { diffusionUNet, generateUnetCalib, openUnetNpz, type GeneratedCalibInfo } from './diffusion-calib.js';

export const calibOptions: Record<string, OptionSpec> = {
  data: {
    type: 'string',
    value: 'path',
    help: "calibration data (default: the model's dataset; a UNet: a time step-aware set it builds)",
  },
  split: { type: 'string', value: 'train|test', help: 'split where the data has both (default: train)' },
  calib: {
    type: 'string',
    value: 'N',
    help: 'calibration items, a seeded random subset (default: 32; a UNet: the whole set)',
  },
  seed: { type: 'string', value: 'S', help: 'seed of the calibration subset (and of a built set)', default: '0' },
  'calib-batch': {
    type: 'string',
    value: 'B',
    help: 'calibration batch size (default: all N at once; a UNet: 64)',
  },
};

export interface CalibData {
  dataset: Dataset;
  dataArg: string;
  split: string;
  indices: number[];
  n: number;
  seed: number;
  batch: number;
  feeds: () => AsyncIterable<Feeds>;
  /** set when the data were built by the FP sampler (a UNet without --data) */
  generated?: GeneratedCalibInfo;
}

const TENSOR_FILE = /\.np[yz]$/i;

export async function openCalibData(
  p: Parsed,
  loaded: LoadedModel,
  quiet: boolean,
  dataFlag = 'data',
): Promise<CalibData> {
  const given = str(p, dataFlag);
  const unet = diffusionUNet(loaded);
  if (unet !== undefined) {
    // A UNet's recorded dataset holds images, not (x_t, t) inputs: it is never the default.
    if (given === undefined) return generateUnetCalib(p, loaded, quiet);
    if (/\.npz$/i.test(given)) return openUnetNpz(p, given, loaded, unet);
  }
  const dataArg = given ?? loaded.info.dataset;
  if (dataArg === undefined) throw usageError('quantize needs --data <path> for calibration');
  const split = str(p, 'split') ?? 'train';
  // NPY/NPZ arrays are fed as they are: no image normalization to warn about.
  const pre = resolvePreprocess(loaded, quiet || TENSOR_FILE.test(dataArg));
  const dataset = await openDataArg(p, dataArg, 'train', pre, loaded.info.labels);
  const n = int(p, 'calib', { min: 1 }) ?? 32;
  const seed = int(p, 'seed', { min: 0 }) ?? 0;
  const indices = calibrationIndices(dataset.size, n, seed);
  const batch = int(p, 'calib-batch', { min: 1 }) ?? n;
  const inputs = modelInputs(loaded.model);
  return {
    dataset,
    dataArg,
    split,
    indices,
    n,
    seed,
    batch,
    async *feeds() {
      for await (const b of dataset.batches(batch, { indices })) yield bindFeeds(inputs, b.inputs);
    },
  };
}
