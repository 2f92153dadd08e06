// Minibatches from capture caches (q-diffusion.md §3.4): each iteration draws `batch` samples by a seeded random
// permutation (the reference's torch.randperm(N)[:batch]) and copies every cached tensor's rows of those samples
// into one feed. A sample may carry several rows (rowsPerSample); all of them travel together. Imports nothing
// from the runtime.

import { mulberry32 } from '../../data/calib.js';
import { dataError } from '../../errors.js';
import type { HostTensor } from '../../util/host-tensor.js';
import type { TensorCache } from './capture.js';

/** Samples held by a cache. */
export function cacheSamples(c: TensorCache): number {
  return c.rowsPerSample === 0 ? 0 : (c.dims[0] ?? 0) / c.rowsPerSample;
}

/** The samples of several caches (they must agree). */
export function commonSamples(caches: readonly TensorCache[]): number {
  const counts = [...new Set(caches.map(cacheSamples))];
  if (counts.length !== 1) throw dataError(`cached tensors hold different sample counts: ${counts.join(', ')}`);
  return counts[0]!;
}

/** The dims of a feed of `batch` samples from `c`. */
export function batchDims(c: TensorCache, batch: number): number[] {
  return [batch * c.rowsPerSample, ...c.dims.slice(1)];
}

/** Copies the rows of `indices` (sample indices) of `c` into a new tensor. */
export function gather(c: TensorCache, indices: readonly number[]): HostTensor {
  const per = c.data.length / cacheSamples(c);
  const out = new Float32Array(per * indices.length);
  indices.forEach((s, i) => out.set(c.data.subarray(s * per, (s + 1) * per), i * per));
  return { dtype: 'float32', dims: batchDims(c, indices.length), data: out };
}

/** Seeded sampler: each call gives the first `batch` entries of a fresh random permutation of 0..samples-1. */
export class BatchSampler {
  private readonly rand: () => number;
  private readonly perm: number[];

  constructor(
    readonly samples: number,
    readonly batch: number,
    seed: number,
  ) {
    if (batch > samples) throw dataError(`a batch of ${batch} from ${samples} samples`);
    this.rand = mulberry32(seed);
    this.perm = Array.from({ length: samples }, (_, i) => i);
  }

  next(): number[] {
    // A partial Fisher-Yates shuffle of a fresh identity permutation: the first `batch` entries are a uniformly
    // drawn ordered subset, as randperm(N)[:batch].
    const p = this.perm;
    for (let i = 0; i < p.length; i++) p[i] = i;
    for (let i = 0; i < this.batch; i++) {
      const j = i + Math.floor(this.rand() * (p.length - i));
      [p[i], p[j]] = [p[j]!, p[i]!];
    }
    return p.slice(0, this.batch);
  }
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * Evaluation batches of exactly `batch` samples (the gradient graph's shapes are fixed) that weigh every sample
 * once: consecutive full batches, then the r leftover samples cycled through r / gcd(r, batch) batches, in which each
 * appears batch / gcd(r, batch) times. `weight` is the number of samples a batch's mean stands for (batch, or
 * gcd(r, batch)); the weights add up to `samples`.
 */
export function evaluationBatches(samples: number, batch: number): { indices: number[]; weight: number }[] {
  const out: { indices: number[]; weight: number }[] = [];
  const full = Math.floor(samples / batch) * batch;
  for (let s = 0; s < full; s += batch)
    out.push({ indices: Array.from({ length: batch }, (_, i) => s + i), weight: batch });
  const r = samples - full;
  if (r === 0) return out;
  const g = gcd(r, batch);
  for (let j = 0; j < r / g; j++)
    out.push({ indices: Array.from({ length: batch }, (_, i) => full + ((j * batch + i) % r)), weight: g });
  return out;
}

/** The mean over every sample of `run`'s batch means, each sample counted once (AdaRound's and LSQ's statistics). */
export async function evaluationMean(
  samples: number,
  batch: number,
  run: (indices: number[]) => Promise<number>,
): Promise<number> {
  let sum = 0;
  for (const { indices, weight } of evaluationBatches(samples, batch)) sum += weight * (await run(indices));
  return sum / samples;
}
