// Min-max observer: the "Linear Quant" baseline and Q-Diffusion's 'max' initialisation. Fully streaming: keeps a
// running min and max per channel (or per tensor), optionally as Q-Diffusion's EMA (`--running_stat`).
// Imports observers/common.ts, qparams.ts and layout.ts.

import type { ChannelLayout } from '../layout.js';
import { makeUniformParams, type UniformParams } from '../qparams.js';
import { batchLayout, checkOptions, includeZeroAffine, nanError, qdiffMaxAffine, symmetricScale } from './common.js';
import { dataError, usageError } from '../../errors.js';
import type { Observer, ObserverOptions } from './types.js';

/**
 * Asymmetric: 'include-zero' (default) widens [min, max] to contain 0, δ = (hi − lo)/(2^b − 1), z = round(−lo/δ)
 * (integer, in range); 'qdiff' is Q-Diffusion's formula with its quirks (see qdiffMaxAffine). Symmetric:
 * δ = max(|min|, |max|)/(2^(b−1) − 1), z = 0. Every δ is at least 1e-8, so a constant or all-zero tensor gives a
 * finite result (all-zero: δ = 1e-8, z = 0 in every mode).
 */
export class MinMaxObserver implements Observer {
  readonly name = 'minmax';
  readonly firstBatchOnly = false;
  batchesSeen = 0;
  private layout: ChannelLayout | null = null;
  private min = new Float64Array(0);
  private max = new Float64Array(0);
  private batchMin = new Float64Array(0);
  private batchMax = new Float64Array(0);
  private readonly axis: number | null;
  private readonly momentum: number | null;

  constructor(private readonly opts: ObserverOptions) {
    checkOptions('minmax', opts, ['symmetric', 'axis', 'rangeMode', 'momentum']);
    this.axis = opts.axis ?? null;
    this.momentum = opts.momentum ?? null;
    if (this.momentum !== null && !(this.momentum >= 0 && this.momentum < 1)) {
      throw usageError(`minmax: momentum must be in [0, 1), got ${this.momentum}`);
    }
  }

  observe(batch: Float32Array, dims: readonly number[]): void {
    const l = batchLayout(this.name, batch, dims, this.axis, this.layout);
    const first = this.layout === null;
    this.layout = l;
    this.batchesSeen++;
    const { outer, channels, inner } = l;
    if (first) {
      this.min = new Float64Array(channels);
      this.max = new Float64Array(channels);
      this.batchMin = new Float64Array(channels);
      this.batchMax = new Float64Array(channels);
    }
    const bmin = this.batchMin.fill(Infinity);
    const bmax = this.batchMax.fill(-Infinity);
    // Memory order (o, c, i), so a per-channel pass over the last axis does not stride through the batch C times.
    for (let o = 0; o < outer; o++) {
      for (let c = 0; c < channels; c++) {
        const base = (o * channels + c) * inner;
        let lo = bmin[c]!;
        let hi = bmax[c]!;
        for (let i = base; i < base + inner; i++) {
          const v = batch[i]!;
          if (v < lo) lo = v;
          if (v > hi) hi = v;
          if (v !== v) throw nanError(this.name, i);
        }
        bmin[c] = lo;
        bmax[c] = hi;
      }
    }
    const m = this.momentum;
    for (let c = 0; c < channels; c++) {
      const lo = bmin[c]!;
      const hi = bmax[c]!;
      if (first) {
        this.min[c] = lo;
        this.max[c] = hi;
      } else if (m !== null) {
        this.min[c] = m * this.min[c]! + (1 - m) * lo;
        this.max[c] = m * this.max[c]! + (1 - m) * hi;
      } else {
        this.min[c] = Math.min(this.min[c]!, lo);
        this.max[c] = Math.max(this.max[c]!, hi);
      }
    }
  }

  compute(): UniformParams {
    const l = this.layout;
    if (l === null) throw dataError('minmax: no calibration data was observed');
    const { bits } = this.opts;
    const symmetric = this.opts.symmetric ?? false;
    const scale: number[] = [];
    const zeroPoint: number[] = [];
    for (let c = 0; c < l.channels; c++) {
      const lo = this.min[c]!;
      const hi = this.max[c]!;
      if (symmetric) {
        scale.push(symmetricScale(Math.max(Math.abs(lo), Math.abs(hi)), bits));
        zeroPoint.push(0);
      } else {
        const a = this.opts.rangeMode === 'qdiff' ? qdiffMaxAffine(lo, hi, bits) : includeZeroAffine(lo, hi, bits);
        scale.push(a.scale);
        zeroPoint.push(a.zeroPoint);
      }
    }
    return makeUniformParams({ bits, symmetric, axis: l.axis, scale, zeroPoint });
  }
}
