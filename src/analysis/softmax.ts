// RepQ-ViT's second figure as numbers: the post-Softmax distribution (a log-scale histogram, the share of values
// and of probability mass near 0, a power-law slope) and how each quantizer copes with it: uniform (min-max, the
// linear baseline; quantile-MSE, RepQ-ViT's uniform search), log2 and log-√2, at 4 and 6 bits. The quantizers
// are calibrated with the methods' own observers on the first batch (the search observers only ever look at
// their first batch), then their MSE is summed over every batch. A log quantizer's error costs a log per value
// and per candidate, so above ERROR_SAMPLE values per batch the quantizers see an evenly strided sample (every
// k-th value, deterministic); the histogram and shares always count every value. Imports the observers and
// error kernels.

import { logErrorSum } from '../quant/log-quantizers.js';
import { uniformErrorSum } from '../quant/quantizers.js';
import { createObserver } from '../quant/observers/index.js';
import type { QuantParams } from '../quant/qparams.js';
import type { LogHistogram, SoftmaxAnalysis, SoftmaxQuantError } from './types.js';

export const SOFTMAX_BITS: readonly number[] = [4, 6];
export const SHARE_THRESHOLDS: readonly number[] = [1e-1, 1e-2, 1e-3, 1e-4, 1e-6];
/** Values per batch the quantizer errors are measured on (a DeiT-cifar10 batch of 32 fits whole). */
export const ERROR_SAMPLE = 2 ** 19;
const LOG10_LO = -12;
const PER_DECADE = 4;

const QUANTIZERS: {
  name: SoftmaxQuantError['quantizer'];
  observer: 'minmax' | 'mse-quantile' | 'log2' | 'logsqrt2';
}[] = [
  { name: 'uniform-minmax', observer: 'minmax' },
  { name: 'uniform-mse', observer: 'mse-quantile' },
  { name: 'log2', observer: 'log2' },
  { name: 'logsqrt2', observer: 'logsqrt2' },
];

function errorSum(x: Float32Array, p: QuantParams): number {
  if (p.kind !== 'uniform') return logErrorSum(x, p.kind, p.bits, p.scale);
  return uniformErrorSum(x, p.scale[0]!, p.zeroPoint[0]!, p.qmin, p.qmax, 2);
}

export class SoftmaxAccumulator {
  private readonly counts = new Float64Array(-LOG10_LO * PER_DECADE);
  private underflow = 0;
  private zeros = 0;
  private n = 0;
  private max = 0;
  private mass = 0;
  private massBelow = 0;
  private params: { q: (typeof QUANTIZERS)[number]; bits: number; p: QuantParams; sum: number }[] | null = null;

  private sampled = 0;

  add(x: Float32Array, dims: readonly number[]): void {
    const sample = strided(x, ERROR_SAMPLE);
    if (this.params === null) {
      this.params = [];
      for (const bits of SOFTMAX_BITS)
        for (const q of QUANTIZERS) {
          const obs = createObserver(q.observer, { bits });
          obs.observe(sample, sample === x ? dims : [sample.length]);
          this.params.push({ q, bits, p: obs.compute(), sum: 0 });
        }
    }
    for (const e of this.params) e.sum += errorSum(sample, e.p);
    this.sampled += sample.length;
    const bins = this.counts.length;
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      this.mass += v;
      if (v > this.max) this.max = v;
      if (v < 1e-3) this.massBelow += v;
      if (v <= 0) {
        this.zeros++;
        this.underflow++;
        continue;
      }
      const b = Math.floor((Math.log10(v) - LOG10_LO) * PER_DECADE);
      if (b < 0) this.underflow++;
      else this.counts[b >= bins ? bins - 1 : b]!++;
    }
    this.n += x.length;
  }

  result(node: string, output: string): SoftmaxAnalysis {
    const histogram: LogHistogram = {
      log10Lo: LOG10_LO,
      binsPerDecade: PER_DECADE,
      counts: Array.from(this.counts),
      underflow: this.underflow,
      zeros: this.zeros,
    };
    const n = Math.max(this.n, 1);
    return {
      node,
      output,
      count: this.n,
      max: this.max,
      histogram,
      shareBelow: SHARE_THRESHOLDS.map((threshold) => ({ threshold, share: countBelow(histogram, threshold) / n })),
      massBelow1e3: this.mass > 0 ? this.massBelow / this.mass : 0,
      powerLawSlope: powerLawSlope(histogram),
      errorValues: this.sampled,
      errors: (this.params ?? []).map((e) => ({
        quantizer: e.q.name,
        bits: e.bits,
        mse: e.sum / Math.max(this.sampled, 1),
        scale: e.p.kind === 'uniform' ? e.p.scale[0]! : e.p.scale,
      })),
    };
  }
}

/** Every k-th value of x (k = ceil(n / cap)), or x itself when it fits. */
export function strided(x: Float32Array, cap: number): Float32Array {
  if (x.length <= cap) return x;
  const k = Math.ceil(x.length / cap);
  const out = new Float32Array(Math.ceil(x.length / k));
  for (let i = 0, j = 0; i < x.length; i += k, j++) out[j] = x[i]!;
  return out;
}

/** Values below a threshold that is a bin edge (every power of ten is): exact. */
export function countBelow(h: LogHistogram, threshold: number): number {
  const edge = Math.round((Math.log10(threshold) - h.log10Lo) * h.binsPerDecade);
  let c = h.underflow;
  for (let i = 0; i < Math.min(edge, h.counts.length); i++) c += h.counts[i]!;
  return c;
}

/** Slope of log10(count / bin width) against log10(bin centre) over bins in [1e-4, 1] that hold data. */
export function powerLawSlope(h: LogHistogram): number | null {
  const xs: number[] = [];
  const ys: number[] = [];
  h.counts.forEach((c, i) => {
    const lo = h.log10Lo + i / h.binsPerDecade;
    const hi = lo + 1 / h.binsPerDecade;
    if (c <= 0 || lo < -4 - 1e-9) return;
    const width = 10 ** hi - 10 ** lo;
    xs.push((lo + hi) / 2);
    ys.push(Math.log10(c / width));
  });
  if (xs.length < 3) return null;
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < xs.length; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  return sxx > 0 ? sxy / sxx : null;
}
