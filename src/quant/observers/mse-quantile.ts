// RepQ-ViT's UniformQuantizer calibration (repq-vit.md §2.1): for each p in [0.999, 0.9999, 0.99999] take the
// range [q(1 − p), q(p)], δ = (hi − lo)/(2^b − 1), z = round(−lo/δ), score the mean squared fake-quant error, keep
// the first strictly smallest. Per tensor, or per channel on any axis (each channel slice pools every other
// position, e.g. all B·N tokens of channel c of a [B, N, C] activation), exactly as if the per-tensor search were
// run on each slice.
//
// First batch only: the reference calibrates lazily on its first forward pass and never updates, so later batches
// are ignored (firstBatchOnly). Zero-points are not clamped and may be negative or above 2^b − 1 (all-positive
// data at 4 bits in [2, 3] gives z = −30), as in the reference; QDQ export checks qdqIncompatibility().
// Imports observers/common.ts, quantile.ts, quantizers.ts, qparams.ts and layout.ts.

import { dataError, usageError } from '../../errors.js';
import { gatherChannel, type ChannelLayout } from '../layout.js';
import { makeUniformParams, uniformGrid, type UniformParams } from '../qparams.js';
import { quantilesInPlace } from '../quantile.js';
import { uniformErrorSum } from '../quantizers.js';
import { batchLayout, candidateLevels, checkOptions, rawAffine, type Affine } from './common.js';
import type { Observer, ObserverOptions } from './types.js';

/**
 * The search on one slice. `buf` is a scratch copy that gets reordered (the score does not depend on order).
 * A constant slice cannot give δ = 0 here: rawAffine maps it to a scale that reproduces the constant exactly.
 */
export function searchQuantileRange(buf: Float32Array, bits: number, levels: readonly number[]): Affine {
  const ps: number[] = [];
  for (const p of levels) ps.push(p, 1 - p);
  const q = quantilesInPlace(buf, ps, 'mse-quantile');
  const { qmin, qmax } = uniformGrid(bits, false);
  let best: Affine | null = null;
  let bestScore = Infinity;
  for (let k = 0; k < levels.length; k++) {
    const cand = rawAffine(q[2 * k + 1]!, q[2 * k]!, bits);
    const score = uniformErrorSum(buf, cand.scale, cand.zeroPoint, qmin, qmax, 2) / buf.length;
    if (score < bestScore) {
      bestScore = score;
      best = cand;
    }
  }
  // Scores are finite (finite input, δ ≥ 1e-8), so the first candidate always wins over Infinity.
  return best!;
}

export class MseQuantileObserver implements Observer {
  readonly name = 'mse-quantile';
  readonly firstBatchOnly = true;
  batchesSeen = 0;
  private result: UniformParams | null = null;
  private readonly levels: readonly number[];

  constructor(private readonly opts: ObserverOptions) {
    checkOptions('mse-quantile', opts, ['axis', 'candidates', 'symmetric']);
    if (opts.symmetric === true) throw usageError('mse-quantile (RepQ-ViT) is asymmetric; symmetric is not supported');
    this.levels = candidateLevels('mse-quantile', opts);
  }

  observe(batch: Float32Array, dims: readonly number[]): void {
    this.batchesSeen++;
    if (this.result !== null) return;
    const l: ChannelLayout = batchLayout(this.name, batch, dims, this.opts.axis ?? null, null);
    const scratch = new Float32Array(l.outer * l.inner);
    const scale: number[] = [];
    const zeroPoint: number[] = [];
    for (let c = 0; c < l.channels; c++) {
      const a = searchQuantileRange(gatherChannel(batch, l, c, scratch), this.opts.bits, this.levels);
      scale.push(a.scale);
      zeroPoint.push(a.zeroPoint);
    }
    this.result = makeUniformParams({ bits: this.opts.bits, symmetric: false, axis: l.axis, scale, zeroPoint });
  }

  compute(): UniformParams {
    if (this.result === null) throw dataError('mse-quantile: no calibration data was observed');
    return this.result;
  }
}
