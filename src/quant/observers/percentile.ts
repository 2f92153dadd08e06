// Percentile observer: min-max on a clipped range [q(1 − p), q(p)], default p = 99.99 %. Streaming by averaging
// each batch's quantiles, weighted by batch size. This is exact for a single batch and, unlike a fixed histogram,
// needs no range guess up front; across batches it estimates rather than computes the pooled percentile (the
// average of per-batch tail quantiles is slightly less extreme than the pooled one). Quantiles use torch's linear
// interpolation (quantile.ts). Imports observers/common.ts, quantile.ts, qparams.ts and layout.ts.

import { usageError, dataError } from '../../errors.js';
import { gatherChannel, type ChannelLayout } from '../layout.js';
import { makeUniformParams, type UniformParams } from '../qparams.js';
import { quantilesInPlace } from '../quantile.js';
import { batchLayout, checkOptions, includeZeroAffine, symmetricScale } from './common.js';
import type { Observer, ObserverOptions } from './types.js';

/**
 * The clipped range becomes (δ, z) like the min-max observer's default: widened to contain 0, so z is an integer
 * in range; symmetric uses max(|lo|, |hi|)/(2^(b−1) − 1).
 */
export class PercentileObserver implements Observer {
  readonly name = 'percentile';
  readonly firstBatchOnly = false;
  batchesSeen = 0;
  private layout: ChannelLayout | null = null;
  private loSum = new Float64Array(0);
  private hiSum = new Float64Array(0);
  private weight = 0;
  private readonly levels: [number, number];
  private readonly axis: number | null;

  constructor(private readonly opts: ObserverOptions) {
    checkOptions('percentile', opts, ['symmetric', 'axis', 'percentile']);
    const pct = opts.percentile ?? 99.99;
    if (!(pct > 50 && pct <= 100)) throw usageError(`percentile must be in (50, 100], got ${pct}`);
    this.levels = [1 - pct / 100, pct / 100];
    this.axis = opts.axis ?? null;
  }

  observe(batch: Float32Array, dims: readonly number[]): void {
    const l = batchLayout(this.name, batch, dims, this.axis, this.layout);
    if (this.layout === null) {
      this.loSum = new Float64Array(l.channels);
      this.hiSum = new Float64Array(l.channels);
    }
    this.layout = l;
    this.batchesSeen++;
    const n = l.outer * l.inner;
    const scratch = new Float32Array(n);
    for (let c = 0; c < l.channels; c++) {
      const slice = gatherChannel(batch, l, c, scratch);
      const [lo, hi] = quantilesInPlace(slice, this.levels, this.name) as [number, number];
      this.loSum[c]! += lo * n;
      this.hiSum[c]! += hi * n;
    }
    this.weight += n;
  }

  compute(): UniformParams {
    const l = this.layout;
    if (l === null) throw dataError('percentile: no calibration data was observed');
    const { bits } = this.opts;
    const symmetric = this.opts.symmetric ?? false;
    const scale: number[] = [];
    const zeroPoint: number[] = [];
    for (let c = 0; c < l.channels; c++) {
      const lo = this.loSum[c]! / this.weight;
      const hi = this.hiSum[c]! / this.weight;
      const a = symmetric
        ? { scale: symmetricScale(Math.max(Math.abs(lo), Math.abs(hi)), bits), zeroPoint: 0 }
        : includeZeroAffine(lo, hi, bits);
      scale.push(a.scale);
      zeroPoint.push(a.zeroPoint);
    }
    return makeUniformParams({ bits, symmetric, axis: l.axis, scale, zeroPoint });
  }
}
