// Pieces several commands share: loading a model argument with the information that travels with it, the
// preprocessing flags, and opening --data.

import { readModel } from '../onnx/io/index.js';
import type { Model } from '../onnx/ir.js';
import { entryInfo, resolveModelRef, type ManifestEntry } from '../models/manifest.js';
import { mergeModelInfo, readModelInfo, type ModelInfo, type PreprocessInfo } from '../models/model-info.js';
import { modelInputs, type Device } from '../runtime/index.js';
import { usageError } from '../errors.js';
import { int, numberList, str, type OptionSpec, type Parsed } from './args.js';
import { warn } from './output.js';

export const modelInfoOptions: Record<string, OptionSpec> = {
  size: { type: 'string', value: 'px', help: 'input size the model expects (crop size)' },
  'crop-pct': { type: 'string', value: 'f', help: 'resize to size/crop-pct, then center-crop (timm eval transform)' },
  pad: { type: 'string', value: 'px', help: 'zero padding on each side before normalization (28->32: 2)' },
  channels: { type: 'string', value: '1|3', help: 'image channels the model expects' },
  mean: { type: 'string', value: 'a,b,c', help: 'per-channel mean on [0,1] pixels' },
  std: { type: 'string', value: 'a,b,c', help: 'per-channel std on [0,1] pixels' },
  labels: { type: 'string', value: 'a,b,...', help: 'class names in label order' },
};

export const runtimeOptions: Record<string, OptionSpec> = {
  device: { type: 'string', value: 'cpu|cuda', help: 'execution provider', default: 'cpu' },
  threads: { type: 'string', value: 'n', help: 'ORT intra-op threads (default: all cores)' },
};

export interface LoadedModel {
  path: string;
  model: Model;
  info: ModelInfo;
  entry?: ManifestEntry;
}

export function flagInfo(p: Parsed): ModelInfo {
  const mean = numberList(p, 'mean');
  const std = numberList(p, 'std');
  const channels = int(p, 'channels');
  if (channels !== undefined && channels !== 1 && channels !== 3)
    throw usageError(`--channels must be 1 or 3, got ${channels}`);
  const pre: Partial<PreprocessInfo> = {};
  const size = int(p, 'size', { min: 1 });
  const pad = int(p, 'pad', { min: 0 });
  const crop = numberList(p, 'crop-pct')?.[0];
  if (size !== undefined) pre.size = size;
  if (pad !== undefined) pre.pad = pad;
  if (crop !== undefined) {
    if (!(crop > 0 && crop <= 1)) throw usageError(`--crop-pct must be in (0, 1], got ${crop}`);
    pre.cropPct = crop;
  }
  if (channels !== undefined) pre.channels = channels;
  if (mean !== undefined) pre.mean = mean;
  if (std !== undefined) pre.std = std;
  const info: ModelInfo = {};
  if (Object.keys(pre).length > 0) info.preprocess = pre as PreprocessInfo;
  const labels = str(p, 'labels');
  if (labels !== undefined) info.labels = labels.split(',').map((s) => s.trim());
  return info;
}

export function loadModel(ref: string, flags: ModelInfo = {}): LoadedModel {
  const { path, entry } = resolveModelRef(ref);
  const model = readModel(path);
  const base = mergeModelInfo(readModelInfo(model), entry === undefined ? undefined : entryInfo(entry));
  // Flags override field by field inside preprocess too.
  const info = mergeModelInfo(base, flags);
  if (base.preprocess !== undefined && flags.preprocess !== undefined)
    info.preprocess = { ...base.preprocess, ...flags.preprocess };
  return entry === undefined ? { path, model, info } : { path, model, info, entry };
}

/** Preprocessing for an image model: recorded/flags first, then what the input shape implies. */
export function resolvePreprocess(loaded: LoadedModel, quiet: boolean): PreprocessInfo {
  const input = modelInputs(loaded.model)[0];
  const shape = input?.type?.shape;
  const shapeChannels = typeof shape?.[1] === 'number' ? shape[1] : undefined;
  const shapeSize = typeof shape?.[2] === 'number' ? shape[2] : undefined;
  const given = loaded.info.preprocess;
  const channels = (given?.channels ?? (shapeChannels === 1 ? 1 : 3)) as 1 | 3;
  if ((given?.mean === undefined || given.std === undefined) && !quiet)
    warn('no normalization recorded for this model; using [0,1] pixels (pass --mean and --std)');
  const pre: PreprocessInfo = {
    channels,
    mean: given?.mean ?? new Array<number>(channels).fill(0),
    std: given?.std ?? new Array<number>(channels).fill(1),
  };
  const pad = given?.pad ?? 0;
  const size = given?.size ?? (shapeSize === undefined ? undefined : shapeSize - 2 * pad);
  if (size !== undefined) pre.size = size;
  if (pad > 0) pre.pad = pad;
  if (given?.cropPct !== undefined) pre.cropPct = given.cropPct;
  return pre;
}

export function runtimeSettings(p: Parsed): { device: Device; threads?: number } {
  const device = str(p, 'device') ?? 'cpu';
  if (device !== 'cpu' && device !== 'cuda') throw usageError(`--device must be cpu or cuda, got ${device}`);
  const threads = int(p, 'threads', { min: 1 });
  return threads === undefined ? { device } : { device, threads };
}
