// Gaussian statistics (mean, covariance) of feature vectors, accumulated batch by batch so that 60,000 reference
// images never sit in memory. Each batch's own mean and centred co-moment are merged into the running ones
// (Chan, Golub & LeVeque's pairwise update) in float64: no catastrophic cancellation from raw sums of squares.
// The covariance is the unbiased one (divided by n − 1), as numpy's np.cov in pytorch-fid / torch-fidelity.

import { dataError } from '../errors.js';
import type { HostTensor } from '../util/host-tensor.js';
import { readNpz, writeNpz } from '../data/npz.js';

export interface GaussianStats {
  n: number;
  dim: number;
  mu: Float64Array;
  /** dim × dim, row-major */
  sigma: Float64Array;
}

export class StreamingStats {
  private count = 0;
  private readonly mean: Float64Array;
  /** upper triangle (incl. diagonal) of Σ (x − mean)(x − mean)ᵀ */
  private readonly m2: Float64Array;

  constructor(readonly dim: number) {
    this.mean = new Float64Array(dim);
    this.m2 = new Float64Array(dim * dim);
  }

  get n(): number {
    return this.count;
  }

  /** Adds `rows` feature vectors stored back to back in `data`. */
  add(data: ArrayLike<number>, rows: number): void {
    const d = this.dim;
    if (data.length !== rows * d) throw dataError(`feature batch has ${data.length} values, expected ${rows} x ${d}`);
    if (rows === 0) return;
    const mb = new Float64Array(d);
    for (let r = 0; r < rows; r++) for (let j = 0; j < d; j++) mb[j] = mb[j]! + data[r * d + j]!;
    for (let j = 0; j < d; j++) mb[j] = mb[j]! / rows;
    const c = new Float64Array(d);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < d; j++) {
        const v = data[r * d + j]!;
        if (!Number.isFinite(v))
          throw dataError(`feature ${j} of a vector is ${v}`, 'the feature network produced NaN or infinity');
        c[j] = v - mb[j]!;
      }
      for (let i = 0; i < d; i++) {
        const ci = c[i]!;
        const row = i * d;
        for (let j = i; j < d; j++) this.m2[row + j] = this.m2[row + j]! + ci * c[j]!;
      }
    }
    const n = this.count;
    const total = n + rows;
    const w = (n * rows) / total;
    for (let i = 0; i < d; i++) c[i] = mb[i]! - this.mean[i]!; // δ
    for (let i = 0; i < d; i++) {
      const di = c[i]! * w;
      const row = i * d;
      for (let j = i; j < d; j++) this.m2[row + j] = this.m2[row + j]! + di * c[j]!;
      this.mean[i] = this.mean[i]! + (c[i]! * rows) / total;
    }
    this.count = total;
  }

  finish(): GaussianStats {
    const d = this.dim;
    if (this.count < 2) throw dataError(`a covariance needs at least 2 feature vectors, got ${this.count}`);
    const sigma = new Float64Array(d * d);
    for (let i = 0; i < d; i++)
      for (let j = i; j < d; j++) {
        const v = this.m2[i * d + j]! / (this.count - 1);
        sigma[i * d + j] = v;
        sigma[j * d + i] = v;
      }
    return { n: this.count, dim: d, mu: Float64Array.from(this.mean), sigma };
  }
}

/** One-shot statistics of `rows` vectors (tests, small sets). */
export function gaussianStats(data: ArrayLike<number>, rows: number, dim: number): GaussianStats {
  const s = new StreamingStats(dim);
  s.add(data, rows);
  return s.finish();
}

export function saveStats(path: string, s: GaussianStats): void {
  const arrays = new Map<string, HostTensor>([
    ['mu', { dtype: 'float64', dims: [s.dim], data: s.mu }],
    ['sigma', { dtype: 'float64', dims: [s.dim, s.dim], data: s.sigma }],
    ['n', { dtype: 'int64', dims: [1], data: BigInt64Array.of(BigInt(s.n)) }],
  ]);
  writeNpz(path, arrays);
}

export function loadStats(path: string): GaussianStats {
  const a = readNpz(path);
  const mu = a.get('mu');
  const sigma = a.get('sigma');
  const n = a.get('n');
  if (mu?.dtype !== 'float64' || sigma?.dtype !== 'float64' || n === undefined)
    throw dataError(`${path} is not a statistics file (float64 mu, sigma and n)`, 'delete it to recompute');
  const dim = mu.data.length;
  if (sigma.data.length !== dim * dim) throw dataError(`${path}: sigma is not ${dim}x${dim}`, 'delete it to recompute');
  return { n: Number(n.data[0]), dim, mu: mu.data as Float64Array, sigma: sigma.data as Float64Array };
}
