// The plain data that analysis produces and report renders: no classes, no typed arrays, so analysis.json is
// this object as is and `quantlens report` can render a JSON written by another run or version.
// Imports only the model summary type.

import type { ModelSummary } from '../onnx/summary.js';

export const ANALYSIS_SCHEMA_VERSION = 1;

/** Equal-width bins: bin i covers [lo + i·width, lo + (i + 1)·width); the last bin also holds its upper edge. */
export interface Histogram {
  lo: number;
  width: number;
  counts: number[];
}

export interface Percentile {
  /** in percent, e.g. 99.9 */
  p: number;
  value: number;
  /** true when computed from every value (small tensor or a tail kept whole), false when from the sample */
  exact: boolean;
}

export interface TensorUseInfo {
  node: string;
  opType: string;
  input: number;
}

export interface TensorStats {
  tensor: string;
  role: 'weight' | 'activation';
  uses: TensorUseInfo[];
  /** shape of one batch (activations) or of the initializer (weights) */
  shape: number[];
  count: number;
  min: number;
  max: number;
  mean: number;
  std: number;
  /** excess kurtosis m4/m2² − 3 (0 for a normal distribution) */
  kurtosis: number;
  /** share of values outside mean ± 6·std */
  outlierRatio: number;
  percentiles: Percentile[];
  histogram: Histogram;
}

export interface LayerNormAnalysis {
  /** the LayerNorm's last node (LayerNormalization, or the Add of beta in a decomposed one) */
  node: string;
  kind: 'fused' | 'decomposed';
  output: string;
  /** MatMul/Gemm/Conv nodes reading the output (qkv, fc1 in a ViT) */
  consumers: string[];
  channels: number;
  channelMin: number[];
  channelMax: number[];
  /** max channel range / median channel range: RepQ-ViT's inter-channel variation */
  variation: number;
  maxRange: number;
  medianRange: number;
  /** channel with the largest range */
  widestChannel: number;
  /** max |gamma| / median |gamma| where gamma is a constant, else null */
  gammaRatio: number | null;
  /** fake-quant MSE of this tensor at the analysis' activation bits (min-max, on the first batch) */
  layerwiseMse: number;
  channelwiseMse: number;
}

export interface LogHistogram {
  /** log10 of the lower edge of bin 0; bins are `binsPerDecade` per decade up to 10^0 */
  log10Lo: number;
  binsPerDecade: number;
  counts: number[];
  /** values below 10^log10Lo, including exact zeros */
  underflow: number;
  zeros: number;
}

export interface SoftmaxQuantError {
  quantizer: 'uniform-minmax' | 'uniform-mse' | 'log2' | 'logsqrt2';
  bits: number;
  /** mean squared fake-quant error over every calibration value */
  mse: number;
  /** the calibrated scale (δ for log quantizers) */
  scale: number;
}

export interface SoftmaxAnalysis {
  node: string;
  output: string;
  count: number;
  max: number;
  histogram: LogHistogram;
  /** share of values below each threshold */
  shareBelow: { threshold: number; share: number }[];
  /** share of the total probability mass carried by values below 1e-3 */
  massBelow1e3: number;
  /** least-squares slope of log10 density vs log10 p over bins in [1e-4, 1] with data: density ∝ p^slope */
  powerLawSlope: number | null;
  /** values the quantizer errors were measured on (= count unless large batches were strided) */
  errorValues: number;
  errors: SoftmaxQuantError[];
}

export interface LayerSensitivity {
  node: string;
  opType: string;
  /** position in graph order (the accumulated view quantizes layers 0..index) */
  index: number;
  hasWeight: boolean;
  hasActivation: boolean;
  sqnrW: number | null;
  sqnrA: number | null;
  sqnrBoth: number;
  top1W: number | null;
  top1A: number | null;
  top1Both: number | null;
  /** everything up to and including this layer quantized */
  sqnrAccumulated: number;
  top1Accumulated: number | null;
  /** this layer's output noise power (both quantized) as a share of the sum over layers */
  noiseShare: number;
}

export interface SensitivityAnalysis {
  wBits: number;
  aBits: number;
  method: string;
  output: string;
  calibItems: number;
  evalItems: number;
  fpTop1: number | null;
  allSqnr: number;
  allTop1: number | null;
  layers: LayerSensitivity[];
  seconds: number;
}

export interface StepRange {
  min: number[];
  max: number[];
}

export interface TimestepAnalysis {
  /** step indices in sampling order (0 = first, noisiest) */
  steps: number[];
  /** the time-step input value of each step, where known */
  t: (number | null)[];
  items: number[];
  input: string;
  /** x_t per step: min, 1st, 50th, 99th percentile, max */
  inputBox: { min: number[]; p1: number[]; p50: number[]; p99: number[]; max: number[] };
  /** every quantizable activation per step */
  tensors: (StepRange & { tensor: string; node: string; drift: number })[];
}

export interface ShortcutAnalysis {
  conv: string;
  concat: string;
  halves: { tensor: string; channels: number | null; min: number; max: number; range: number }[];
  /** larger half range / smaller half range */
  halfRatio: number;
  neighbours: { node: string; tensor: string; range: number }[];
  /** larger half range / median neighbour range */
  neighbourRatio: number | null;
}

export interface ErrorAccumulation {
  steps: number[];
  mse: number[];
  label: string;
}

export interface ModelSection {
  name: string;
  path: string;
  sha256: string | null;
  kind: 'vit' | 'diffusion' | 'other';
  summary: ModelSummary;
}

export interface Analysis {
  schemaVersion: number;
  quantlens: string;
  onnxruntime: string;
  model: ModelSection;
  settings: {
    wBits: number;
    aBits: number;
    method: string;
    data: string;
    calibItems: number;
    calibBatches: number;
    seed: number;
    limit: number;
  };
  tensors: TensorStats[];
  layerNorms: LayerNormAnalysis[];
  softmax: SoftmaxAnalysis[];
  sensitivity: SensitivityAnalysis | null;
  timesteps: TimestepAnalysis | null;
  shortcuts: ShortcutAnalysis[];
  errorAccumulation: ErrorAccumulation | null;
  /** what was skipped and why, one line each */
  notes: string[];
  seconds: { stats: number; sensitivity: number; total: number };
}
