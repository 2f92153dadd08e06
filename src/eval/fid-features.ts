// The FID / IS feature network: an ONNX model with a feature output (and optionally a logits output for IS), fed
// through the model's own preprocessing. Reference images (a dataset) and generated images (uint8 samples) take the
// same path: uint8 pixels -> preprocessInto -> network, so the two sets differ only in where the pixels came from.
// Reference statistics are cached under <cache>/fid/, keyed by the network's sha256, the output and the dataset.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Model } from '../onnx/ir.js';
import type { Dataset } from '../data/types.js';
import { outputDims, preprocessInto, validatePreprocess } from '../data/preprocess.js';
import { quantlensCacheDir } from '../data/cifar10-cache.js';
import type { PreprocessInfo } from '../models/model-info.js';
import { Session, bindFeeds, type SessionOptions } from '../runtime/index.js';
import { dataError, describeError, ioError, modelError } from '../errors.js';
import type { HostTensor } from '../util/host-tensor.js';
import { prefetch } from '../util/prefetch.js';
import type { Uint8Images } from '../diffusion/images.js';
import { loadStats, saveStats, StreamingStats, type GaussianStats } from './feature-stats.js';

export interface FeatureNet {
  model: Model;
  /** sha256 of the model file: the cache key of its reference statistics */
  sha256: string;
  featuresOutput: string;
  /** classifier logits for the Inception Score (none: no IS) */
  logitsOutput?: string;
  preprocess: PreprocessInfo;
}

export interface FeatureBatch {
  /** rows × dim */
  features: Float32Array;
  dim: number;
  logits?: Float32Array;
  classes?: number;
}

function outputNames(model: Model): string[] {
  return model.graph.outputs.map((o) => o.name);
}

export class FeatureExtractor {
  private constructor(
    private readonly session: Session,
    readonly net: FeatureNet,
  ) {}

  static async create(net: FeatureNet, opts: SessionOptions = {}): Promise<FeatureExtractor> {
    const names = outputNames(net.model);
    for (const o of [net.featuresOutput, net.logitsOutput])
      if (o !== undefined && !names.includes(o))
        throw modelError(`the feature model has no output ${o}`, `its outputs: ${names.join(', ')}`);
    validatePreprocess(net.preprocess);
    return new FeatureExtractor(await Session.create(net.model, opts), net);
  }

  async run(inputs: ReadonlyMap<string, HostTensor>): Promise<FeatureBatch> {
    const { featuresOutput: fo, logitsOutput: lo } = this.net;
    const out = await this.session.run(bindFeeds(this.session.inputs, inputs), lo === undefined ? [fo] : [fo, lo]);
    const rows = (v: HostTensor, name: string) => {
      const n = v.dims[0] ?? 0;
      if (v.dtype !== 'float32' || n === 0 || v.data.length % n !== 0)
        throw modelError(`output ${name} is ${v.dtype}[${v.dims.join(', ')}], not float32 [batch, ...]`);
      return { data: v.data as Float32Array, width: v.data.length / n };
    };
    // Inception's pool3 is [N, 2048, 1, 1]: anything after the batch axis is one vector.
    const f = rows(out[fo]!, fo);
    const batch: FeatureBatch = { features: f.data, dim: f.width };
    if (lo !== undefined) {
      const l = rows(out[lo]!, lo);
      batch.logits = l.data;
      batch.classes = l.width;
    }
    return batch;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/** uint8 samples -> the feature network's input, through its preprocessing (as a decoded image would go). */
export function preprocessImages(imgs: Uint8Images, pre: PreprocessInfo): HostTensor {
  if (imgs.channels !== 1 && imgs.channels !== 3)
    throw dataError(`samples have ${imgs.channels} channels; the feature network takes 1- or 3-channel images`);
  const [c, h, w] = outputDims(pre, imgs.width, imgs.height);
  const out = new Float32Array(imgs.n * c * h * w);
  const size = imgs.channels * imgs.height * imgs.width;
  for (let i = 0; i < imgs.n; i++) {
    const img = {
      data: imgs.data.subarray(i * size, (i + 1) * size),
      width: imgs.width,
      height: imgs.height,
      channels: imgs.channels as 1 | 3,
      layout: 'chw' as const,
    };
    preprocessInto(img, pre, out, i * c * h * w);
  }
  return { dtype: 'float32', dims: [imgs.n, c, h, w], data: out };
}

export interface DatasetStatsOptions {
  batch?: number;
  limit?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Feature statistics of a dataset already opened with the network's preprocessing. */
export async function datasetStats(
  ex: FeatureExtractor,
  dataset: Dataset,
  opts: DatasetStatsOptions = {},
): Promise<GaussianStats> {
  let stats: StreamingStats | undefined;
  const total = Math.min(dataset.size, opts.limit ?? Infinity);
  const batches = dataset.batches(opts.batch ?? 256, opts.limit === undefined ? {} : { limit: opts.limit });
  for await (const b of prefetch(batches)) {
    const f = await ex.run(b.inputs);
    stats ??= new StreamingStats(f.dim);
    stats.add(f.features, f.features.length / f.dim);
    opts.onProgress?.(stats.n, total);
  }
  if (stats === undefined) throw dataError(`dataset ${dataset.name} is empty`);
  return stats.finish();
}

export interface ReferenceKey {
  /** what names the data: a dataset word or a resolved path */
  dataset: string;
  split?: string;
}

export interface ReferenceStats {
  stats: GaussianStats;
  cached: boolean;
  path: string;
}

/** Cache file of a network's statistics over a dataset; any change of network, output, data or preprocessing misses. */
export function referenceCachePath(
  net: FeatureNet,
  key: ReferenceKey,
  size: number,
  cacheDir = quantlensCacheDir(),
): string {
  // Sorted keys: the same preprocessing must name the same file whichever order its fields were set in.
  const preprocess = Object.fromEntries(Object.entries(net.preprocess).sort(([a], [b]) => a.localeCompare(b)));
  const id = JSON.stringify({ v: 1, net: net.sha256, output: net.featuresOutput, ...key, size, preprocess });
  const hash = createHash('sha256').update(id).digest('hex').slice(0, 16);
  const slug = `${key.dataset.split(/[\\/]/).filter(Boolean).pop() ?? 'data'}-${key.split ?? 'all'}`.replace(
    /[^\w.-]+/g,
    '_',
  );
  return join(cacheDir, 'fid', `${net.sha256.slice(0, 12)}-${slug}-${hash}.npz`);
}

export async function referenceStats(
  ex: FeatureExtractor,
  dataset: Dataset,
  key: ReferenceKey,
  opts: DatasetStatsOptions & { cacheDir?: string } = {},
): Promise<ReferenceStats> {
  const path = referenceCachePath(ex.net, key, dataset.size, opts.cacheDir);
  if (opts.limit === undefined && existsSync(path)) return { stats: loadStats(path), cached: true, path };
  const stats = await datasetStats(ex, dataset, opts);
  if (opts.limit === undefined) {
    try {
      mkdirSync(join(path, '..'), { recursive: true });
    } catch (e) {
      throw ioError(`cannot create the statistics cache ${join(path, '..')}: ${describeError(e)}`);
    }
    saveStats(path, stats);
  }
  return { stats, cached: false, path };
}
