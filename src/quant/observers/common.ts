// Shared pieces of the observers: option checks, per-channel bookkeeping across batches, and the formulas that
// turn a range into (scale, zero-point). Imports qparams.ts, layout.ts, round.ts and errors.ts.

import { dataError, usageError } from '../../errors.js';
import { channelLayout, type ChannelLayout } from '../layout.js';
import { checkBits } from '../qparams.js';
import { roundHalfEven } from '../round.js';
import type { ObserverName, ObserverOptions } from './types.js';

const f32 = Math.fround;

/** Smallest scale any observer returns (Q-Diffusion's floor); keeps x/δ finite for constant or zero tensors. */
export const MIN_SCALE = Math.fround(1e-8);

/** RepQ-ViT's candidate quantile levels, in the order they are tried. */
export const REPQ_CANDIDATES: readonly number[] = [0.999, 0.9999, 0.99999];

/** Validates `opts` for observer `name`, rejecting options that observer does not use. */
export function checkOptions(name: ObserverName, opts: ObserverOptions, supported: readonly string[]): void {
  checkBits(opts.bits, `${name}: bits`);
  for (const [key, value] of Object.entries(opts)) {
    if (key !== 'bits' && value !== undefined && !supported.includes(key)) {
      throw usageError(`observer '${name}' does not support option '${key}'`);
    }
  }
}

/** The candidate list of a quantile search, validated. */
export function candidateLevels(name: ObserverName, opts: ObserverOptions): readonly number[] {
  const c = opts.candidates ?? REPQ_CANDIDATES;
  if (c.length === 0 || c.some((p) => !(p > 0.5 && p <= 1))) {
    throw usageError(`${name}: candidate quantile levels must be in (0.5, 1], got [${c.join(', ')}]`);
  }
  return c;
}

/**
 * Resolves the layout of a batch and checks that its channel count matches earlier batches, so that streaming
 * statistics never mix channels.
 */
export function batchLayout(
  name: ObserverName,
  batch: Float32Array,
  dims: readonly number[],
  axis: number | null,
  previous: ChannelLayout | null,
): ChannelLayout {
  const l = channelLayout(dims, axis, batch.length);
  if (batch.length === 0) throw dataError(`${name}: empty batch (dims [${dims.join(', ')}])`);
  if (previous !== null && (previous.channels !== l.channels || previous.axis !== l.axis)) {
    throw dataError(`${name}: batch has ${l.channels} channels on axis ${l.axis}, earlier ones ${previous.channels}`);
  }
  return l;
}

/** The data error for NaN in a calibration batch; `index` is the flat index in the batch when known. */
export function nanError(name: ObserverName, index?: number) {
  const where = index === undefined ? '' : ` (first at flat index ${index} of the batch)`;
  return dataError(`${name}: calibration tensor contains NaN${where}`, 'check the model inputs and preprocessing');
}

export interface Affine {
  scale: number;
  zeroPoint: number;
}

/**
 * RepQ-ViT's range → (δ, z) (repq-vit.md §2.1) and the raw form of Q-Diffusion's search: δ = (hi − lo)/(L − 1),
 * z = round(−lo/δ), z NOT clamped (all-positive data gives negative z). The reference divides by zero on a
 * constant slice; here a range with δ < MIN_SCALE is treated as the constant c = (lo + hi)/2 and given
 * δ = |c|/(L − 1), z = −sign(c)·(L − 1), which reproduces c exactly on code 0 (δ = MIN_SCALE, z = 0 when c ≈ 0).
 * Values are float32, as stored.
 */
export function rawAffine(lo: number, hi: number, bits: number): Affine {
  const levels = 2 ** bits - 1;
  const delta = f32((hi - lo) / levels);
  if (delta >= MIN_SCALE) return { scale: delta, zeroPoint: roundHalfEven(f32(-lo / delta)) + 0 };
  const c = (lo + hi) / 2;
  if (Math.abs(c) >= levels * MIN_SCALE)
    return { scale: f32(Math.abs(c) / levels), zeroPoint: c > 0 ? -levels : levels };
  return { scale: MIN_SCALE, zeroPoint: 0 };
}

/**
 * Range → (δ, z) with the range widened to contain 0 (ONNX Runtime's convention): z is an integer in [0, L − 1]
 * and 0 is exactly representable. A zero range gives δ = MIN_SCALE, z = 0.
 */
export function includeZeroAffine(lo: number, hi: number, bits: number): Affine {
  const levels = 2 ** bits - 1;
  const l = Math.min(lo, 0);
  const h = Math.max(hi, 0);
  const delta = Math.max(f32((h - l) / levels), MIN_SCALE);
  const z = roundHalfEven(f32(-l / delta));
  return { scale: delta, zeroPoint: Math.min(Math.max(z, 0), levels) + 0 };
}

/**
 * Q-Diffusion's 'max' initialisation verbatim (q-diffusion.md §2): δ = max((max − min)/(L − 1), 1e-8) from the
 * RAW min/max, z = round(−min(min, 0)/δ). Quirks kept: for all-positive data z = 0 and the grid covers only
 * [0, max − min] (values above saturate); for all-negative data z exceeds L − 1. A constant tensor gets δ = 1e-8.
 */
export function qdiffMaxAffine(lo: number, hi: number, bits: number): Affine {
  const delta = Math.max(f32((hi - lo) / (2 ** bits - 1)), MIN_SCALE);
  return { scale: delta, zeroPoint: roundHalfEven(f32(-Math.min(lo, 0) / delta)) + 0 };
}

/** Symmetric scale: +absmax lands on code 2^(b−1) − 1 (Q-Diffusion's absmax/127 at 8 bits), floored at 1e-8. */
export function symmetricScale(absmax: number, bits: number): number {
  return Math.max(f32(absmax / (2 ** (bits - 1) - 1)), MIN_SCALE);
}
