// "Stress" variants of a ViT: the same network with a function-preserving per-channel rescaling of every
// post-LayerNorm pair (γ, β times k; the consumers' input rows divided by k), with factors k drawn so that a few
// channels get ranges an order of magnitude or more above the median, as the RepQ-ViT and FQ-ViT figures show for
// pretrained DeiT and Swin. Small ViTs trained here stay flat; these variants let the methods' effects show, and
// their results are always reported next to the natural model's.

import { cloneModel } from '../onnx/clone.js';
import { GraphBuilder } from '../onnx/builder.js';
import type { Model } from '../onnx/ir.js';
import { foldConstants } from '../onnx/rewrite/constant-fold.js';
import { mulberry32 } from '../data/calib.js';
import { unsupportedError } from '../errors.js';
import { findPostLnPairs } from '../methods/repq-vit/post-ln-pairs.js';
import { rescalePostLn } from '../methods/repq-vit/reparam.js';

export interface StressOptions {
  seed?: number;
  /** share of channels per LayerNorm made outliers (default 0.03, at least one) */
  outlierShare?: number;
  /** outlier factors are log-uniform in [min, max] (default 10-40) */
  outlierRange?: [number, number];
  /** every other channel gets exp(|N(0, sigma)|) (default 0.35: a mild spread around 1-2x) */
  sigma?: number;
}

export interface StressRecord {
  norm: string;
  channels: number;
  outliers: number[];
  maxFactor: number;
  medianFactor: number;
}

/** Factors for `channels` channels: mostly near 1, a few large (deterministic in the seed). */
export function stressFactors(channels: number, rand: () => number, opts: Required<StressOptions>): Float32Array {
  const k = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    // Box-Muller from two uniforms; |N| keeps every factor >= 1, so no channel shrinks into the rounding noise.
    const n = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    k[c] = Math.exp(Math.abs(n) * opts.sigma);
  }
  const count = Math.max(1, Math.round(channels * opts.outlierShare));
  const [lo, hi] = opts.outlierRange;
  for (let i = 0; i < count; i++) {
    const c = Math.floor(rand() * channels);
    k[c] = lo * (hi / lo) ** rand();
  }
  return k;
}

export function makeStressVariant(model: Model, options: StressOptions = {}): { model: Model; records: StressRecord[] } {
  const opts: Required<StressOptions> = {
    seed: options.seed ?? 0,
    outlierShare: options.outlierShare ?? 0.03,
    outlierRange: options.outlierRange ?? [10, 40],
    sigma: options.sigma ?? 0.35,
  };
  const out = cloneModel(model);
  const g = out.graph;
  foldConstants(g);
  const { pairs } = findPostLnPairs(g);
  if (pairs.length === 0) throw unsupportedError('no post-LayerNorm pairs found: a stress variant needs a ViT-style model');
  const rand = mulberry32(opts.seed);
  const b = new GraphBuilder(g);
  const byName = new Map(g.nodes.map((n) => [n.name, n]));
  const records: StressRecord[] = [];
  for (const pair of pairs) {
    const k = stressFactors(pair.channels, rand, opts);
    // rescalePostLn divides the LayerNorm by r and multiplies the consumers' input rows by r: r = 1/k amplifies.
    const r = Float32Array.from(k, (x) => 1 / x);
    rescalePostLn(g, b, byName, pair, { r, b: new Float32Array(pair.channels) });
    const sorted = Array.from(k).sort((x, y) => x - y);
    records.push({
      norm: pair.name,
      channels: pair.channels,
      outliers: Array.from(k.keys()).filter((c) => k[c]! >= opts.outlierRange[0]),
      maxFactor: sorted.at(-1)!,
      medianFactor: sorted[Math.floor(sorted.length / 2)]!,
    });
  }
  g.topoSort();
  return { model: out, records };
}
