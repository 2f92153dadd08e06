// Inputs for the benchmarks: real CIFAR-10 images where the model is a CIFAR-10 classifier and the data is at hand,
// otherwise seeded random tensors shaped by the model's inputs (timing does not depend on the values).

import { calibrationIndices, cifar10Available, ensureCifar10, mulberry32, openDataset } from '../../src/data/index.js';
import type { Model } from '../../src/onnx/ir.js';
import { bindFeeds, modelInputs, type Feeds } from '../../src/runtime/index.js';
import type { HostTensor } from '../../src/util/host-tensor.js';
import type { BenchModel } from './models.js';

/** Standard normal samples from a seeded generator (Box-Muller over mulberry32). */
export function randn(n: number, seed: number): Float32Array {
  const rand = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.max(rand(), 1e-12);
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/** Random feeds for every model input: float inputs N(0,1), integer inputs (time steps) uniform in [0, 1000). */
export function randomFeeds(model: Model, batch: number, seed = 0): Feeds {
  const feeds: Feeds = {};
  modelInputs(model).forEach((spec, k) => {
    const shape = (spec.type?.shape ?? []).map((d, i) => (i === 0 ? batch : typeof d === 'number' ? d : 1));
    const n = shape.reduce((a, b) => a * b, 1);
    if (spec.type?.dtype === 'int64') {
      const rand = mulberry32(seed + 17 * (k + 1));
      feeds[spec.name] = {
        dtype: 'int64',
        dims: shape,
        data: BigInt64Array.from({ length: n }, () => BigInt(Math.floor(rand() * 1000))),
      };
    } else feeds[spec.name] = { dtype: 'float32', dims: shape, data: randn(n, seed + 17 * (k + 1)) };
  });
  return feeds;
}

/** Whether `m` is a CIFAR-10 image classifier and the CIFAR-10 split can be opened here. */
export function usesCifar(m: BenchModel, split: 'train' | 'test'): boolean {
  const p = m.preprocess;
  return m.arch === 'deit' && p?.size === 32 && p.channels === 3 && cifar10Available(split);
}

/** `n` preprocessed CIFAR-10 images as one tensor: a seeded subset (calibration) or the first n (evaluation). */
export async function cifarImages(
  m: BenchModel,
  split: 'train' | 'test',
  n: number,
  seed?: number,
): Promise<HostTensor> {
  const p = m.preprocess!;
  const ds = await openDataset(await ensureCifar10(split), {
    preprocess: { size: p.size, channels: 3, mean: p.mean, std: p.std },
  });
  const indices = seed === undefined ? Array.from({ length: n }, (_, i) => i) : calibrationIndices(ds.size, n, seed);
  for await (const b of ds.batches(n, { indices })) return b.inputs.get('image')!;
  throw new Error('CIFAR-10 gave no images');
}

/** Feeds for `model` from an image tensor (single-input classifiers). */
export function imageFeeds(model: Model, images: HostTensor): Feeds {
  return bindFeeds(modelInputs(model), new Map([['image', images]]));
}

/** Split every feed along the batch axis into batches of `batch`. */
export function splitFeeds(feeds: Feeds, batch: number): Feeds[] {
  const first = Object.values(feeds)[0]!;
  const n = first.dims[0]!;
  const out: Feeds[] = [];
  for (let s = 0; s < n; s += batch) {
    const e = Math.min(n, s + batch);
    const part: Feeds = {};
    for (const [k, t] of Object.entries(feeds)) {
      const per = t.data.length / n;
      part[k] = {
        dtype: t.dtype,
        dims: [e - s, ...t.dims.slice(1)],
        data: t.data.slice(s * per, e * per),
      } as HostTensor;
    }
    out.push(part);
  }
  return out;
}

/** Benchmark inputs: CIFAR-10 (test split unless a seed asks for a calibration subset of train) or random. */
export async function benchFeeds(
  m: BenchModel,
  model: Model,
  n: number,
  opts: { seed?: number } = {},
): Promise<{
  feeds: Feeds;
  data: string;
}> {
  const split = opts.seed === undefined ? 'test' : 'train';
  if (usesCifar(m, split)) {
    const images = await cifarImages(m, split, n, opts.seed);
    const what = opts.seed === undefined ? `first ${n}` : `${n} (seed ${opts.seed})`;
    return { feeds: imageFeeds(model, images), data: `CIFAR-10 ${split}, ${what} images` };
  }
  return { feeds: randomFeeds(model, n, opts.seed ?? 0), data: `random N(0,1) inputs (${n})` };
}
