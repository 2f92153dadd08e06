// `quantlens analyze <model> --data <path> --out <dir>`: why a model is hard to quantize. Writes
// <dir>/report.html, <dir>/analysis.json and <dir>/analysis.md. Image data: a seeded calibration subset of the
// train split and a --limit subset of the test split for top-1. A time step-aware NPZ (x, t, step): an equal share
// of every step, plus FP-vs-quantized sampling for error accumulation.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { analyzeModel, type AnalyzeOptions, type CalibBatch } from '../analysis/index.js';
import { countStepBatches, planSteps, stepBatches } from '../analysis/step-data.js';
import type { LabelledBatch } from '../analysis/sensitivity.js';
import { calibrationIndices } from '../data/calib.js';
import { readNpz } from '../data/npz.js';
import { tensorDataset } from '../data/tensor-dataset.js';
import type { Dataset } from '../data/types.js';
import { unetIO } from '../diffusion/index.js';
import { spreadIndices } from '../eval/subset.js';
import { LINEAR_METHODS, type LinearMethod } from '../methods/ptq.js';
import { findings, writeReport } from '../report/index.js';
import { bindFeeds, modelInputs } from '../runtime/index.js';
import { describeError, ioError, usageError } from '../errors.js';
import type { CommandSpec, OptionSpec, Parsed } from './args.js';
import { flag, int, str } from './args.js';
import {
  flagInfo,
  loadModel,
  modelInfoOptions,
  resolvePreprocess,
  runtimeOptions,
  runtimeSettings,
  type LoadedModel,
} from './common.js';
import { openDataArg } from './data-arg.js';
import { samplerConfig, samplerOptions } from './diffusion-options.js';
import { print, printJson, progress } from './output.js';

const pick = (keys: string[]): Record<string, OptionSpec> =>
  Object.fromEntries(keys.filter((k) => samplerOptions[k] !== undefined).map((k) => [k, samplerOptions[k]!]));

export const analyzeSpec: CommandSpec = {
  name: 'analyze',
  summary:
    'Analyze a model for quantization: statistics, LayerNorm/Softmax/time-step figures, sensitivity; HTML report.',
  usage: 'quantlens analyze <model> --data <path> [--calib N] [--w-bits B --a-bits B] [--limit N] --out <dir>',
  positionals: [1, 1],
  options: {
    data: {
      type: 'string',
      value: 'path',
      help: "calibration data (default: the model's dataset); an .npz with step for diffusion",
    },
    split: { type: 'string', value: 'train|test', help: 'calibration split where the data has both (default: train)' },
    'eval-split': {
      type: 'string',
      value: 'train|test',
      help: 'split for top-1 where the data has both (default: test)',
    },
    calib: {
      type: 'string',
      value: 'N',
      help: 'calibration items (a seeded subset; diffusion: spread over steps)',
      default: '32',
    },
    seed: { type: 'string', value: 'S', help: 'seed of the calibration subset and of sampling', default: '0' },
    'calib-batch': {
      type: 'string',
      value: 'B',
      help: 'items per batch of the statistics pass; memory grows with it (default: 8)',
    },
    method: {
      type: 'string',
      value: LINEAR_METHODS.join('|'),
      help: 'observers for the sensitivity quantizers',
      default: 'minmax',
    },
    'w-bits': { type: 'string', value: 'B', help: 'weight bits for sensitivity (2-16)', default: '4' },
    'a-bits': {
      type: 'string',
      value: 'B',
      help: 'activation bits for sensitivity and MSE figures (2-16)',
      default: '4',
    },
    limit: {
      type: 'string',
      value: 'N',
      help: 'evaluation items for top-1 per variant (0: SQNR only)',
      default: '1000',
    },
    'no-sensitivity': { type: 'boolean', help: 'skip the per-layer sensitivity pass' },
    'error-samples': {
      type: 'string',
      value: 'N',
      help: 'diffusion: trajectories for error accumulation (0: skip)',
      default: '8',
    },
    ...pick(['steps', 'sampler', 'eta', 'skip', 'beta-schedule', 'beta-start', 'beta-end', 'train-steps']),
    out: { type: 'string', value: 'dir', help: 'output folder (report.html, analysis.json, analysis.md)' },
    ...modelInfoOptions,
    ...runtimeOptions,
    json: { type: 'boolean', help: 'print one JSON object' },
  },
};

/**
 * Items per statistics batch: every tensor of interest is probed at once, so memory grows with it (a DeiT-S at
 * 224x224 needs about 150 MB per item). Min-max calibration streams, so the batch size does not change it.
 */
const DEFAULT_BATCH = 8;

function bits(p: Parsed, name: string): number {
  const b = int(p, name) ?? 4;
  if (b < 2 || b > 16) throw usageError(`--${name} must be 2-16, got ${b}`);
  return b;
}

function withSplit(p: Parsed, split: string | undefined): Parsed {
  return { ...p, values: { ...p.values, split } };
}

interface Data {
  calib: () => AsyncIterable<CalibBatch>;
  batches: number;
  evalBatches?: () => AsyncIterable<LabelledBatch>;
  npzSteps: boolean;
}

async function* labelled(
  ds: Dataset,
  indices: number[] | undefined,
  inputs: ReturnType<typeof modelInputs>,
  batch: number,
) {
  for await (const b of ds.batches(batch, indices === undefined ? {} : { indices }))
    if (b.labels !== undefined) yield { feeds: bindFeeds(inputs, b.inputs), labels: b.labels };
}

async function openData(p: Parsed, loaded: LoadedModel, json: boolean, limit: number): Promise<Data> {
  const arg = str(p, 'data') ?? loaded.info.dataset;
  if (arg === undefined)
    throw usageError('analyze needs --data <path>', 'e.g. --data cifar10, or an .npz calibration set');
  const n = int(p, 'calib', { min: 1 }) ?? 32;
  const seed = int(p, 'seed', { min: 0 }) ?? 0;
  const batchFlag = int(p, 'calib-batch', { min: 1 });
  const inputs = modelInputs(loaded.model);
  if (/\.npz$/i.test(arg)) {
    const arrays = readNpz(arg);
    const ds = tensorDataset(arrays, arg, loaded.info.labels === undefined ? {} : { labels: loaded.info.labels });
    const timeInput = inputs.find((i) => i.type?.shape?.length === 1)?.name;
    const steps = inputs.length > 1 ? planSteps(arrays, timeInput, n, seed) : null;
    const evalBatches =
      limit > 0 && ds.labels !== undefined ? () => labelled(ds, spreadIndices(ds.size, limit), inputs, 64) : undefined;
    if (steps !== null) {
      const batch = batchFlag ?? Math.min(64, Math.max(...steps.groups.map((g) => g.indices.length)));
      return {
        calib: () => stepBatches(ds, steps, inputs, batch),
        batches: countStepBatches(steps, batch),
        npzSteps: true,
        ...(evalBatches ? { evalBatches } : {}),
      };
    }
    const indices = calibrationIndices(ds.size, n, seed);
    const batch = batchFlag ?? Math.min(n, DEFAULT_BATCH);
    return {
      async *calib() {
        for await (const b of ds.batches(batch, { indices })) yield { feeds: bindFeeds(inputs, b.inputs) };
      },
      batches: Math.ceil(n / batch),
      npzSteps: false,
      ...(evalBatches ? { evalBatches } : {}),
    };
  }
  const pre = resolvePreprocess(loaded, json);
  const ds = await openDataArg(withSplit(p, str(p, 'split')), arg, 'train', pre, loaded.info.labels);
  const indices = calibrationIndices(ds.size, n, seed);
  const batch = batchFlag ?? Math.min(n, DEFAULT_BATCH);
  let evalBatches: Data['evalBatches'];
  if (limit > 0) {
    const evalDs = await openDataArg(withSplit(p, str(p, 'eval-split')), arg, 'test', pre, loaded.info.labels);
    if (evalDs.labels !== undefined || evalDs.size > 0)
      evalBatches = () => labelled(evalDs, spreadIndices(evalDs.size, limit), inputs, 64);
  }
  return {
    async *calib() {
      for await (const b of ds.batches(batch, { indices })) yield { feeds: bindFeeds(inputs, b.inputs) };
    },
    batches: Math.ceil(n / batch),
    npzSteps: false,
    ...(evalBatches ? { evalBatches } : {}),
  };
}

function isUnet(loaded: LoadedModel): boolean {
  try {
    unetIO(loaded.model);
    return true;
  } catch {
    return false;
  }
}

export async function runAnalyze(p: Parsed): Promise<void> {
  const json = flag(p, 'json');
  const out = str(p, 'out');
  if (out === undefined) throw usageError('analyze needs --out <dir>');
  const method = str(p, 'method') ?? 'minmax';
  if (!(LINEAR_METHODS as readonly string[]).includes(method))
    throw usageError(`--method must be one of ${LINEAR_METHODS.join(', ')}, got ${method}`);
  const wBits = bits(p, 'w-bits');
  const aBits = bits(p, 'a-bits');
  const limit = int(p, 'limit', { min: 0 }) ?? 1000;
  const errorSamples = int(p, 'error-samples', { min: 0 }) ?? 8;
  const seed = int(p, 'seed', { min: 0 }) ?? 0;
  const loaded = loadModel(p.positionals[0]!, flagInfo(p));
  let sha256: string;
  try {
    sha256 = createHash('sha256').update(readFileSync(loaded.path)).digest('hex');
  } catch (e) {
    throw ioError(`cannot read ${loaded.path}: ${describeError(e)}`);
  }
  const data = await openData(p, loaded, json, limit);
  const bars = {
    statistics: progress('statistics', json),
    sensitivity: progress('sensitivity', json),
    sampling: progress('sampling', json),
  };
  const opts: AnalyzeOptions = {
    ...runtimeSettings(p),
    model: { name: loaded.entry?.name ?? basename(loaded.path).replace(/\.onnx$/i, ''), path: loaded.path, sha256 },
    data: str(p, 'data') ?? loaded.info.dataset ?? '',
    seed,
    wBits,
    aBits,
    method: method as LinearMethod,
    calib: data.calib,
    totalBatches: data.batches,
    limit,
    sensitivity: !flag(p, 'no-sensitivity'),
    onProgress: (phase, d, t) => bars[phase](d, t),
  };
  if (data.evalBatches !== undefined) opts.evalBatches = data.evalBatches;
  if (errorSamples > 0 && isUnet(loaded))
    opts.sampler = {
      config: samplerConfig(p, loaded, json),
      samples: errorSamples,
      batch: Math.min(errorSamples, 16),
      seed,
    };
  const analysis = await analyzeModel(loaded.model, opts);
  const paths = writeReport(out, analysis);
  const lines = findings(analysis);
  if (json) {
    printJson({
      model: loaded.path,
      outputs: paths,
      findings: lines,
      notes: analysis.notes,
      seconds: analysis.seconds,
    });
    return;
  }
  print(
    `analyzed   ${loaded.path} on ${analysis.settings.calibItems} items of ${opts.data} in ${analysis.seconds.total.toFixed(1)} s`,
  );
  for (const l of lines) print(`- ${l}`);
  for (const n of analysis.notes) print(`note: ${n}`);
  print(`wrote      ${paths.html}`);
  print(`wrote      ${paths.json}`);
  print(`wrote      ${paths.markdown}`);
}
