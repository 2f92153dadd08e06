// Entropy (KL-divergence) calibration in the TensorRT style (Migacz, "8-bit Inference with TensorRT", 2017):
// a histogram of |x| with 2048 bins; for every candidate threshold bin i ≥ n_q (n_q = quantized levels on one side)
// the reference distribution P is bins [0, i) with all mass beyond folded into bin i − 1, Q is bins [0, i) merged
// into n_q groups and spread back uniformly over the non-empty bins of each group, and the threshold i·width with
// the smallest KL(P‖Q) wins (the largest such i on ties, as pytorch-quantization does). Per tensor only.
//
// Streaming: the first batch with a non-zero value fixes the bin width at absmax/2048; when a later batch exceeds
// the histogram's reach, adjacent bins are merged pairwise and the width doubles until it fits. Merging is exact
// (no re-binning by interpolation) and the histogram never grows beyond 2048 bins. pytorch-quantization's trick of
// overwriting bin 0's count is not used.
//
// Output: symmetric → signed grid, δ = t/(2^(b−1) − 1), n_q = 2^(b−1); asymmetric and never-negative data →
// unsigned grid with z = 0, δ = t/(2^b − 1), n_q = 2^b (TensorRT's unsigned case); asymmetric signed data → the
// symmetric quantizer shifted onto the unsigned grid (δ = t/(2^(b−1) − 1), z = 2^(b−1)), n_q = 2^(b−1). Imports observers/common.ts and qparams.ts.

import { dataError, unsupportedError, usageError } from '../../errors.js';
import { makeUniformParams, type UniformParams } from '../qparams.js';
import { batchLayout, checkOptions, MIN_SCALE, nanError, symmetricScale } from './common.js';
import type { Observer, ObserverOptions } from './types.js';

/**
 * The KL-optimal threshold bin count i in [nq, hist.length] (threshold = i·width). With nq ≥ the bin count no
 * clipping can help and the full range is returned.
 *
 * As in TensorRT / pytorch-quantization, Q is built from bins [0, i) as they are, while P has the clipped mass
 * folded into its last bin; each is normalised by its own total. (Building Q from P instead would make i = nq a
 * perfect, zero-divergence fit and always clip as hard as possible.) A bin where P > 0 but Q = 0 (an empty last
 * bin that received folded mass) makes that candidate's divergence infinite.
 */
export function klThresholdBins(hist: Float64Array, nq: number): number {
  const nb = hist.length;
  if (nq >= nb) return nb;
  const tail = new Float64Array(nb + 1); // tail[i] = Σ hist[i..]
  for (let i = nb - 1; i >= 0; i--) tail[i] = tail[i + 1]! + hist[i]!;
  const totalP = tail[0]!;
  let bestI = nb;
  let bestKl = Infinity;
  for (let i = nq; i <= nb; i++) {
    const folded = tail[i]!;
    const totalQ = totalP - folded;
    if (!(totalQ > 0)) continue;
    let kl = 0;
    for (let j = 0; j < nq && kl < Infinity; j++) {
      const start = Math.floor((j * i) / nq);
      const end = Math.floor(((j + 1) * i) / nq);
      let mass = 0;
      let used = 0;
      for (let b = start; b < end; b++) {
        mass += hist[b]!;
        if (hist[b]! > 0) used++;
      }
      const qv = used > 0 ? mass / used / totalQ : 0;
      for (let b = start; b < end; b++) {
        const p = (b === i - 1 ? hist[b]! + folded : hist[b]!) / totalP;
        if (p === 0) continue;
        if (hist[b] === 0) {
          kl = Infinity;
          break;
        }
        kl += p * Math.log(p / qv);
      }
    }
    if (kl <= bestKl) {
      bestKl = kl;
      bestI = i;
    }
  }
  return bestI;
}

export class EntropyObserver implements Observer {
  readonly name = 'entropy';
  readonly firstBatchOnly = false;
  batchesSeen = 0;
  private readonly hist: Float64Array;
  private width = 0; // 0 until a non-zero value arrives
  private zeros = 0; // exact zeros seen before the width was known
  private negative = false;
  private absmax = 0;
  private seen = false;

  constructor(private readonly opts: ObserverOptions) {
    checkOptions('entropy', opts, ['symmetric', 'axis', 'bins']);
    if (opts.axis !== undefined && opts.axis !== null) throw unsupportedError('entropy observer is per tensor only');
    const bins = opts.bins ?? 2048;
    if (!Number.isInteger(bins) || bins < 2 || bins % 2 !== 0) {
      throw usageError(`entropy: bins must be an even integer ≥ 2, got ${bins}`);
    }
    this.hist = new Float64Array(bins);
  }

  observe(batch: Float32Array, dims: readonly number[]): void {
    batchLayout(this.name, batch, dims, null, null);
    this.batchesSeen++;
    this.seen = true;
    let absmax = 0;
    for (let i = 0; i < batch.length; i++) {
      const v = batch[i]!;
      if (v !== v) throw nanError(this.name, i);
      if (v < 0) this.negative = true;
      const a = Math.abs(v);
      if (a > absmax) absmax = a;
    }
    const nb = this.hist.length;
    this.absmax = Math.max(this.absmax, absmax);
    if (absmax === 0) {
      if (this.width === 0) this.zeros += batch.length;
      else this.hist[0]! += batch.length;
      return;
    }
    if (this.width === 0) {
      this.width = absmax / nb;
      this.hist[0]! += this.zeros;
    }
    while (absmax > this.width * nb) this.mergePairs();
    const inv = 1 / this.width;
    for (let i = 0; i < batch.length; i++) {
      const b = Math.floor(Math.abs(batch[i]!) * inv);
      this.hist[b < nb ? b : nb - 1]! += 1;
    }
  }

  // Doubles the bin width: bin j of the new histogram is bins 2j and 2j + 1 of the old one (bins is even). Reads
  // stay ahead of writes, so this works in place.
  private mergePairs(): void {
    const h = this.hist;
    const half = h.length >> 1;
    for (let j = 0; j < half; j++) h[j] = h[2 * j]! + h[2 * j + 1]!;
    h.fill(0, half);
    this.width *= 2;
  }

  compute(): UniformParams {
    if (!this.seen) throw dataError('entropy: no calibration data was observed');
    const { bits } = this.opts;
    const symmetric = this.opts.symmetric ?? false;
    const unsigned = !symmetric && !this.negative;
    const nq = 2 ** (bits - 1 + (unsigned ? 1 : 0));
    // After merges the top part of the histogram can be empty; search only up to the bin holding the largest
    // value, and never return a threshold beyond that value.
    let t = 0;
    if (this.width > 0) {
      const used = Math.min(this.hist.length, Math.ceil(this.absmax / this.width));
      t = Math.min(klThresholdBins(this.hist.subarray(0, used), nq) * this.width, this.absmax);
    }
    let a: { scale: number; zeroPoint: number };
    if (symmetric) a = { scale: symmetricScale(t, bits), zeroPoint: 0 };
    else if (unsigned) a = { scale: Math.max(Math.fround(t / (2 ** bits - 1)), MIN_SCALE), zeroPoint: 0 };
    else a = { scale: symmetricScale(t, bits), zeroPoint: 2 ** (bits - 1) };
    return makeUniformParams({ bits, symmetric, axis: null, scale: [a.scale], zeroPoint: [a.zeroPoint] });
  }
}
