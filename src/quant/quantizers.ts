// Uniform affine fake quantization on Float32Array: the reference arithmetic that calibration searches score
// candidates with and that tests compare the fake-quant graphs against. Log quantizers live in log-quantizers.ts;
// `fakeQuant` here dispatches on the params kind. Imports round.ts, qparams.ts, layout.ts and log-quantizers.ts.
//
// Arithmetic follows a float32 graph (torch / ONNX Runtime): x/scale is divided in float32 (Math.fround of the
// double quotient of two float32 values is exactly the float32 quotient), rounded half to even, then the
// zero-point is added. Rounding x/δ BEFORE adding z matters when z is fractional (RepQ-ViT after
// reparameterization): round(x/δ) + z ≠ round(x/δ + z).

import { channelLayout } from './layout.js';
import { fakeQuantLog } from './log-quantizers.js';
import { validateQuantParams, type QuantParams, type UniformParams } from './qparams.js';
import { MAGIC, MAGIC_LIMIT, roundHalfEvenF32 } from './round.js';

export {
  fakeQuantLog,
  fakeQuantLog2,
  fakeQuantLogSqrt2,
  log2Codes,
  logCodes,
  logSqrt2Codes,
  decodeLogCodes,
} from './log-quantizers.js';

const f32 = Math.fround;

/** One element's code: clamp(round(x/scale) + zeroPoint, qmin, qmax), in float32 arithmetic. */
export function uniformCode(x: number, scale: number, zeroPoint: number, qmin: number, qmax: number): number {
  const q = f32(roundHalfEvenF32(f32(x / scale)) + zeroPoint);
  return q < qmin ? qmin : q > qmax ? qmax : q;
}

/** One element's fake-quant value: (code − zeroPoint)·scale, in float32 arithmetic. */
export function uniformValue(x: number, scale: number, zeroPoint: number, qmin: number, qmax: number): number {
  return f32(f32(uniformCode(x, scale, zeroPoint, qmin, qmax) - zeroPoint) * scale);
}

type Kernel = (x: number, scale: number, zeroPoint: number, qmin: number, qmax: number) => number;

// One loop for fake-quant and codes: per channel c the scalar params are hoisted, elements (o, c, i) are visited
// in memory order within each (o, c) run, and nothing is allocated per element.
function applyUniform(
  kernel: Kernel,
  x: Float32Array,
  dims: readonly number[],
  p: UniformParams,
  out: Float32Array,
): Float32Array {
  validateQuantParams(p, dims);
  const { outer, channels, inner } = channelLayout(dims, p.axis, x.length);
  if (out.length !== x.length) throw new RangeError(`out has ${out.length} elements, input ${x.length}`);
  const { qmin, qmax } = p;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < channels; c++) {
      const s = p.scale[c]!;
      const z = p.zeroPoint[c]!;
      const base = (o * channels + c) * inner;
      for (let i = base; i < base + inner; i++) out[i] = kernel(x[i]!, s, z, qmin, qmax);
    }
  }
  return out;
}

/**
 * Fake-quantizes `x` (shape `dims`) with uniform params, per tensor or per channel on `params.axis`.
 * `out` may be `x` itself for an in-place update.
 */
export function fakeQuantUniform(
  x: Float32Array,
  dims: readonly number[],
  params: UniformParams,
  out: Float32Array = new Float32Array(x.length),
): Float32Array {
  return applyUniform(uniformValue, x, dims, params, out);
}

/**
 * Codes q = clamp(round(x/δ) + z, qmin, qmax) as float32 values. They are integers exactly when the zero-points
 * are (always for minmax/percentile/mse-range/entropy; not for reparameterized RepQ-ViT quantizers), and every
 * code of a 2–16-bit grid is exact in float32, so `Int8Array.from(codes)` etc. is lossless for export.
 */
export function quantizeUniform(
  x: Float32Array,
  dims: readonly number[],
  params: UniformParams,
  out: Float32Array = new Float32Array(x.length),
): Float32Array {
  return applyUniform(uniformCode, x, dims, params, out);
}

/** (code − z)·δ for codes produced by `quantizeUniform` (or read from a QDQ initializer). */
export function dequantizeUniform(
  codes: Float32Array,
  dims: readonly number[],
  params: UniformParams,
  out: Float32Array = new Float32Array(codes.length),
): Float32Array {
  return applyUniform((q, s, z) => f32(f32(q - z) * s), codes, dims, params, out);
}

/** Fake-quantizes with any params; `dims` is only consulted by per-channel uniform params. */
export function fakeQuant(
  x: Float32Array,
  dims: readonly number[],
  params: QuantParams,
  out: Float32Array = new Float32Array(x.length),
): Float32Array {
  return params.kind === 'uniform' ? fakeQuantUniform(x, dims, params, out) : fakeQuantLog(x, params, out);
}

/**
 * Σ |x̂ − x|^power over `x` for one (scale, zeroPoint) candidate, without materializing x̂: the inner loop of the
 * MSE (power 2, RepQ-ViT) and L2.4 (Q-Diffusion) searches. Summed in float64; callers divide by the count.
 * The arithmetic is uniformValue's, written inline because this loop runs 80 times per tensor in mse-range.
 */
export function uniformErrorSum(
  x: Float32Array,
  scale: number,
  zeroPoint: number,
  qmin: number,
  qmax: number,
  power: number,
): number {
  const s = f32(scale);
  const z = f32(zeroPoint);
  const square = power === 2;
  let sum = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    const r = f32(v / s);
    let q = f32((r < MAGIC_LIMIT && r > -MAGIC_LIMIT ? r + MAGIC - MAGIC : r) + z);
    q = q < qmin ? qmin : q > qmax ? qmax : q;
    const e = Math.abs(f32(f32(q - z) * s) - v);
    // exp(p·log e) is about twice as fast as Math.pow and agrees to a few ulps.
    if (square) sum += e * e;
    else if (e > 0) sum += Math.exp(power * Math.log(e));
  }
  return sum;
}
