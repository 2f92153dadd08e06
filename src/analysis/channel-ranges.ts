// RepQ-ViT's figure 1 as numbers: per-channel min/max of a post-LayerNorm activation over every token of every
// batch (channels are the last axis: [B, N, C]), the inter-channel variation (max channel range / median channel
// range) and what it costs: the min-max fake-quant MSE of the tensor per tensor vs per channel at the analysis'
// activation bits. The MSEs are measured on the first batch only (they need the whole batch's ranges).
// Imports the min-max observer and the uniform quantizer.

import type { Graph } from '../onnx/ir.js';
import { constantTensor } from '../onnx/rewrite/const-value.js';
import { toFloat32 } from '../onnx/tensor.js';
import { MinMaxObserver } from '../quant/observers/minmax.js';
import { fakeQuantUniform } from '../quant/quantizers.js';
import type { LayerNormSite } from './sites.js';
import type { LayerNormAnalysis } from './types.js';

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** max / median of the ranges; Infinity when the median range is 0 but some channel varies. */
export function variationScore(ranges: readonly number[]): number {
  const med = median(ranges);
  const max = ranges.reduce((m, r) => Math.max(m, r), 0);
  if (med > 0) return max / med;
  return max > 0 ? Infinity : 1;
}

function quantMse(x: Float32Array, dims: readonly number[], bits: number, axis: number | null): number {
  const obs = new MinMaxObserver({ bits, axis });
  obs.observe(x, dims);
  const q = fakeQuantUniform(x, dims, obs.compute());
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (q[i]! - x[i]!) ** 2;
  return s / x.length;
}

export class ChannelRangeAccumulator {
  private min = new Float64Array(0);
  private max = new Float64Array(0);
  private mse: { layer: number; channel: number } | null = null;

  constructor(private readonly bits: number) {}

  add(x: Float32Array, dims: readonly number[]): void {
    const c = dims[dims.length - 1] ?? 1;
    if (this.min.length === 0) {
      this.min = new Float64Array(c).fill(Infinity);
      this.max = new Float64Array(c).fill(-Infinity);
    }
    if (c !== this.min.length) throw new RangeError(`channel count changed from ${this.min.length} to ${c}`);
    const { min, max } = this;
    for (let i = 0; i < x.length; i += c) {
      for (let k = 0; k < c; k++) {
        const v = x[i + k]!;
        if (v < min[k]!) min[k] = v;
        if (v > max[k]!) max[k] = v;
      }
    }
    if (this.mse === null && dims.length >= 1) {
      const channelDims = [x.length / c, c];
      this.mse = {
        layer: quantMse(x, channelDims, this.bits, null),
        channel: quantMse(x, channelDims, this.bits, 1),
      };
    }
  }

  result(g: Graph, site: LayerNormSite): LayerNormAnalysis {
    const channelMin = Array.from(this.min);
    const channelMax = Array.from(this.max);
    const ranges = channelMax.map((m, i) => m - channelMin[i]!);
    let widest = 0;
    for (let i = 1; i < ranges.length; i++) if (ranges[i]! > ranges[widest]!) widest = i;
    return {
      node: site.node,
      kind: site.ln.kind,
      output: site.ln.output,
      consumers: site.consumers,
      channels: ranges.length,
      channelMin,
      channelMax,
      variation: variationScore(ranges),
      maxRange: ranges[widest] ?? 0,
      medianRange: median(ranges),
      widestChannel: widest,
      gammaRatio: gammaRatio(g, site.ln.gamma),
      layerwiseMse: this.mse?.layer ?? 0,
      channelwiseMse: this.mse?.channel ?? 0,
    };
  }
}

function gammaRatio(g: Graph, gamma: string | undefined): number | null {
  const t = gamma === undefined ? undefined : constantTensor(g, gamma);
  if (t === undefined) return null;
  const abs = Array.from(toFloat32(t), (v) => Math.abs(v));
  const med = median(abs);
  return med > 0 ? abs.reduce((m, v) => Math.max(m, v), 0) / med : null;
}
