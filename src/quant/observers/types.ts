// The observer contract: feed calibration tensors batch by batch, then ask for quantization parameters.
// Plain types only; imports qparams.ts.

import type { QuantParams } from '../qparams.js';

export type ObserverName = 'minmax' | 'percentile' | 'mse-quantile' | 'mse-range' | 'entropy' | 'log2' | 'logsqrt2';

export interface Observer {
  readonly name: ObserverName;
  /**
   * True for the search-based observers, which calibrate on the first batch only and ignore later ones (the
   * reference implementations initialise lazily on their first forward pass). Feed them the whole calibration
   * tensor as one batch if that is what you want searched.
   */
  readonly firstBatchOnly: boolean;
  /** Batches passed to `observe`, including ignored ones. */
  readonly batchesSeen: number;
  /** Accumulates one batch of shape `dims` (copied or reduced; the caller may reuse the buffer afterwards). */
  observe(batch: Float32Array, dims: readonly number[]): void;
  /** Parameters from what was observed; throws a data error when nothing was observed. */
  compute(): QuantParams;
}

/**
 * Construction options. Only `bits` is required; each observer rejects options it does not support rather than
 * silently ignoring them.
 */
export interface ObserverOptions {
  bits: number;
  /** Signed grid with zero-point 0 (see qparams.ts for the convention). Default false. */
  symmetric?: boolean;
  /** Per-channel axis (negative counts from the end), or null for per tensor. Default null. */
  axis?: number | null;
  /**
   * How an asymmetric range becomes (scale, zero-point), for minmax and mse-range:
   * 'include-zero' (default): the range is widened to contain 0 (ONNX Runtime style), so the zero-point is an
   *   integer inside the grid and QuantizeLinear can express the quantizer;
   * 'qdiff': Q-Diffusion's formulas verbatim (q-diffusion.md §2), see the observers for their quirks.
   */
  rangeMode?: 'include-zero' | 'qdiff';
  /** minmax only: EMA momentum m (Q-Diffusion `--running_stat` uses 0.95): range ← m·range + (1 − m)·batch. */
  momentum?: number;
  /** percentile only: the clipping percentile in (50, 100], default 99.99 (range [q(1 − p), q(p)]). */
  percentile?: number;
  /** mse-quantile, log2, logsqrt2: quantile levels tried in order. Default [0.999, 0.9999, 0.99999]. */
  candidates?: readonly number[];
  /** entropy only: histogram bins, default 2048. */
  bins?: number;
}
