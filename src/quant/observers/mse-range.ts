// Q-Diffusion's 'mse' initialisation (q-diffusion.md §2): 80 candidate ranges [min·(1 − 0.01i), max·(1 − 0.01i)],
// i = 0..79, each quantized asymmetrically with δ = (max_i − min_i)/(2^b − 1), z = round(−min_i/δ), scored by
// mean |x − x̂|^2.4; the first strictly smallest wins. Per tensor, or per channel on any axis (Q-Diffusion uses
// axis 0 of weights; activations are per tensor).
//
// rangeMode 'include-zero' (default) first widens [min, max] to contain 0, so every candidate still contains 0 and
// z is an integer in [0, 2^b − 1]; for mixed-sign data (almost every tensor) this is identical to the reference.
// rangeMode 'qdiff' uses the raw min/max verbatim: one-signed data then gets an out-of-grid z (data in [2, 3]
// gives z = −30 at 4 bits), which QDQ cannot express.
// symmetric: the reference would clamp to [0, n_levels − 1] (a quirk no configuration reaches); here symmetric
// searches absmax·(1 − 0.01i) on the signed grid with z = 0 instead.
//
// First batch only: the reference initialises on one forward pass (64 samples for activations, the weight itself
// for weights). Imports observers/common.ts, quantizers.ts, qparams.ts and layout.ts.

import { dataError } from '../../errors.js';
import { gatherChannel, type ChannelLayout } from '../layout.js';
import { makeUniformParams, uniformGrid, type UniformParams } from '../qparams.js';
import { uniformErrorSum } from '../quantizers.js';
import { batchLayout, checkOptions, nanError, rawAffine, symmetricScale, type Affine } from './common.js';
import type { Observer, ObserverOptions } from './types.js';

export const MSE_RANGE_STEPS = 80;
export const MSE_RANGE_POWER = 2.4;

/** The 80-candidate search on one slice (read only). */
export function searchShrunkRange(x: Float32Array, bits: number, symmetric: boolean, includeZero: boolean): Affine {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    if (v !== v) throw nanError('mse-range');
  }
  if (includeZero) {
    lo = Math.min(lo, 0);
    hi = Math.max(hi, 0);
  }
  const { qmin, qmax } = uniformGrid(bits, symmetric);
  const absmax = Math.max(Math.abs(lo), Math.abs(hi));
  let best: Affine | null = null;
  let bestScore = Infinity;
  for (let i = 0; i < MSE_RANGE_STEPS; i++) {
    const shrink = 1 - 0.01 * i;
    const cand = symmetric
      ? { scale: symmetricScale(absmax * shrink, bits), zeroPoint: 0 }
      : rawAffine(lo * shrink, hi * shrink, bits);
    const score = uniformErrorSum(x, cand.scale, cand.zeroPoint, qmin, qmax, MSE_RANGE_POWER) / x.length;
    if (score < bestScore) {
      bestScore = score;
      best = cand;
    }
  }
  return best!;
}

export class MseRangeObserver implements Observer {
  readonly name = 'mse-range';
  readonly firstBatchOnly = true;
  batchesSeen = 0;
  private result: UniformParams | null = null;

  constructor(private readonly opts: ObserverOptions) {
    checkOptions('mse-range', opts, ['symmetric', 'axis', 'rangeMode']);
  }

  observe(batch: Float32Array, dims: readonly number[]): void {
    this.batchesSeen++;
    if (this.result !== null) return;
    const l: ChannelLayout = batchLayout(this.name, batch, dims, this.opts.axis ?? null, null);
    const symmetric = this.opts.symmetric ?? false;
    const includeZero = this.opts.rangeMode !== 'qdiff';
    // Gathering each channel into a contiguous buffer keeps the 80 passes over it cache-friendly.
    const scratch = new Float32Array(l.outer * l.inner);
    const scale: number[] = [];
    const zeroPoint: number[] = [];
    for (let c = 0; c < l.channels; c++) {
      const a = searchShrunkRange(gatherChannel(batch, l, c, scratch), this.opts.bits, symmetric, includeZero);
      scale.push(a.scale);
      zeroPoint.push(a.zeroPoint);
    }
    this.result = makeUniformParams({ bits: this.opts.bits, symmetric, axis: l.axis, scale, zeroPoint });
  }

  compute(): UniformParams {
    if (this.result === null) throw dataError('mse-range: no calibration data was observed');
    return this.result;
  }
}
