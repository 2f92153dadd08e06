// Calibration feeds for quantize: a seeded subset of --data (train split by default), bound to the model inputs.

import { calibrationIndices } from '../data/calib.js';
import type { Dataset } from '../data/types.js';
import type { LoadedModel } from './common.js';
import { resolvePreprocess } from './common.js';
import { openDataArg } from './data-arg.js';
import { bindFeeds, modelInputs, type Feeds } from '../runtime/index.js';
import { usageError } from '../errors.js';
import { int, str, type OptionSpec, type Parsed } from './args.js';

export const calibOptions: Record<string, OptionSpec> = {
  data: { type: 'string', value: 'path', help: "calibration data (default: the model's dataset)" },
  split: { type: 'string', value: 'train|test', help: 'split where the data has both (default: train)' },
  calib: { type: 'string', value: 'N', help: 'calibration items, a seeded random subset', default: '32' },
  seed: { type: 'string', value: 'S', help: 'seed of the calibration subset', default: '0' },
  'calib-batch': { type: 'string', value: 'B', help: 'calibration batch size (default: all N at once)' },
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
}

export async function openCalibData(
  p: Parsed,
  loaded: LoadedModel,
  quiet: boolean,
  dataFlag = 'data',
): Promise<CalibData> {
  const dataArg = str(p, dataFlag) ?? loaded.info.dataset;
  if (dataArg === undefined) throw usageError('quantize needs --data <path> for calibration');
  const split = str(p, 'split') ?? 'train';
  const dataset = await openDataArg(p, dataArg, 'train', resolvePreprocess(loaded, quiet), loaded.info.labels);
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
