// Calibration of the log quantizers (repq-vit.md §2.2): candidate δ_p = q(p) for p in [0.999, 0.9999, 0.99999],
// scored by mean squared fake-quant error, first strictly smallest wins. Only the upper end is searched: values
// above δ saturate at δ. The same search serves RepQ-ViT's log-√2 quantizer and the base-2 sibling. The
// reference's initial δ = max(x) is never a candidate, so it is not computed.
//
// First batch only, like the reference (lazy init on the first forward). Per tensor only (one scalar δ).
// A candidate δ ≤ 1e-8 (e.g. a mostly-zero tensor) is raised to 1e-8 so codes stay finite.
// Imports observers/common.ts, quantile.ts, log-quantizers.ts and qparams.ts.

import { dataError } from '../../errors.js';
import { logErrorSum } from '../log-quantizers.js';
import { makeLogParams, type LogParams } from '../qparams.js';
import { quantilesInPlace } from '../quantile.js';
import { batchLayout, candidateLevels, checkOptions, MIN_SCALE } from './common.js';
import type { Observer, ObserverOptions } from './types.js';

/** The search on one tensor; `buf` is a scratch copy that gets reordered. Returns the float32 δ. */
export function searchLogScale(
  buf: Float32Array,
  kind: LogParams['kind'],
  bits: number,
  levels: readonly number[],
): number {
  const q = quantilesInPlace(buf, levels, kind);
  let best = NaN;
  let bestScore = Infinity;
  for (const candidate of q) {
    const delta = Math.max(Math.fround(candidate), MIN_SCALE);
    const score = logErrorSum(buf, kind, bits, delta) / buf.length;
    if (score < bestScore) {
      bestScore = score;
      best = delta;
    }
  }
  return best;
}

export class LogQuantileObserver implements Observer {
  readonly firstBatchOnly = true;
  batchesSeen = 0;
  private result: LogParams | null = null;
  private readonly levels: readonly number[];

  constructor(
    readonly name: 'log2' | 'logsqrt2',
    private readonly opts: ObserverOptions,
  ) {
    checkOptions(name, opts, ['candidates']);
    this.levels = candidateLevels(name, opts);
  }

  observe(batch: Float32Array, dims: readonly number[]): void {
    this.batchesSeen++;
    if (this.result !== null) return;
    batchLayout(this.name, batch, dims, null, null);
    const delta = searchLogScale(batch.slice(), this.name, this.opts.bits, this.levels);
    this.result = makeLogParams(this.name, this.opts.bits, delta);
  }

  compute(): LogParams {
    if (this.result === null) throw dataError(`${this.name}: no calibration data was observed`);
    return this.result;
  }
}
