// Logarithmic fake quantization of non-negative data (post-Softmax attention): RepQ-ViT's log-√2 quantizer
// (repq-vit.md §2.2) and its base-2 sibling. Imports round.ts and qparams.ts only.
//
// Special values, as in the reference code:
//   - underflow: a code c ≥ L = 2^b means "zero"; x = 0 gives c = +∞ and therefore 0, never code L − 1;
//   - saturation: x > δ gives a negative code, clamped to 0, so x̂ = δ;
//   - negative or NaN inputs map to 0. The reference yields NaN there (log of a negative number); Softmax outputs
//     are never negative, and a defined value keeps one stray element from poisoning an MSE score.
// Codes are returned in an Int32Array with the sentinel L for "zero", so an integer kernel can drop those terms.

import { checkBits, type LogParams } from './qparams.js';
import { roundHalfEven } from './round.js';

const f32 = Math.fround;
/** √2 as the float32 factor the reference multiplies odd codes by: fround(1 + fround(√2 − 1)) = fround(√2). */
export const SQRT2_F32 = f32(1 + f32(Math.SQRT2 - 1));

/** The code of one element: round(−k·log2(x/δ)) with k = 2 for log-√2 and 1 for log2; L = 2^b for zero. */
function logCode(x: number, delta: number, perOctave: number, levels: number): number {
  const r = f32(x / delta);
  if (!(r > 0)) return levels;
  const c = roundHalfEven(-perOctave * Math.log2(r));
  if (c >= levels) return levels;
  return c > 0 ? c : 0;
}

/**
 * The value of code q ≥ 0 (q < L). log-√2 uses the parity form of the reference,
 * 2^(−ceil(q/2))·(1 + (q mod 2)(√2 − 1))·δ = δ·2^(−q/2); the double product of a power of two, a float32 factor
 * and a float32 δ is exact, so the single rounding to float32 below is the float32 product. log2: δ·2^(−q).
 */
function logValue(q: number, delta: number, sqrt2: boolean): number {
  if (!sqrt2) return f32(Math.pow(2, -q) * delta);
  const odd = q & 1;
  return f32(Math.pow(2, -((q + odd) >> 1)) * (odd ? SQRT2_F32 : 1) * delta);
}

function checkLog(p: LogParams, kind: LogParams['kind']): number {
  if (p.kind !== kind) throw new TypeError(`expected ${kind} params, got ${p.kind}`);
  checkBits(p.bits);
  return 2 ** p.bits;
}

function codesOf(x: Float32Array, p: LogParams, out: Int32Array): Int32Array {
  const levels = 2 ** p.bits;
  const k = p.kind === 'logsqrt2' ? 2 : 1;
  for (let i = 0; i < x.length; i++) out[i] = logCode(x[i]!, p.scale, k, levels);
  return out;
}

/** log-√2 codes c = clamp(round(−2·log2(x/δ)), 0, L − 1), with L = 2^b marking underflow (x̂ = 0). */
export function logSqrt2Codes(
  x: Float32Array,
  params: LogParams,
  out: Int32Array = new Int32Array(x.length),
): Int32Array {
  checkLog(params, 'logsqrt2');
  return codesOf(x, params, out);
}

/** log2 codes c = clamp(round(−log2(x/δ)), 0, L − 1), with L = 2^b marking underflow (x̂ = 0). */
export function log2Codes(x: Float32Array, params: LogParams, out: Int32Array = new Int32Array(x.length)): Int32Array {
  checkLog(params, 'log2');
  return codesOf(x, params, out);
}

/** Codes of either log quantizer. */
export function logCodes(x: Float32Array, params: LogParams, out: Int32Array = new Int32Array(x.length)): Int32Array {
  checkBits(params.bits);
  return codesOf(x, params, out);
}

/** Values of codes from `logCodes` (the reference dequantization; codes ≥ L are 0). */
export function decodeLogCodes(
  codes: Int32Array,
  params: LogParams,
  out: Float32Array = new Float32Array(codes.length),
): Float32Array {
  checkBits(params.bits);
  const levels = 2 ** params.bits;
  const sqrt2 = params.kind === 'logsqrt2';
  for (let i = 0; i < codes.length; i++) {
    const q = codes[i]!;
    out[i] = q >= levels ? 0 : logValue(q, params.scale, sqrt2);
  }
  return out;
}

function fakeQuantLogInto(x: Float32Array, p: LogParams, out: Float32Array): Float32Array {
  if (out.length !== x.length) throw new RangeError(`out has ${out.length} elements, input ${x.length}`);
  const levels = 2 ** p.bits;
  const sqrt2 = p.kind === 'logsqrt2';
  const k = sqrt2 ? 2 : 1;
  for (let i = 0; i < x.length; i++) {
    const q = logCode(x[i]!, p.scale, k, levels);
    out[i] = q >= levels ? 0 : logValue(q, p.scale, sqrt2);
  }
  return out;
}

/** RepQ-ViT's LogSqrt2Quantizer forward (repq-vit.md §2.2). `out` may be `x`. */
export function fakeQuantLogSqrt2(
  x: Float32Array,
  params: LogParams,
  out: Float32Array = new Float32Array(x.length),
): Float32Array {
  checkLog(params, 'logsqrt2');
  return fakeQuantLogInto(x, params, out);
}

/** Base-2 log quantizer: x̂ = δ·2^(−round(−log2(x/δ))), same underflow and saturation. `out` may be `x`. */
export function fakeQuantLog2(
  x: Float32Array,
  params: LogParams,
  out: Float32Array = new Float32Array(x.length),
): Float32Array {
  checkLog(params, 'log2');
  return fakeQuantLogInto(x, params, out);
}

/** Either log quantizer. */
export function fakeQuantLog(
  x: Float32Array,
  params: LogParams,
  out: Float32Array = new Float32Array(x.length),
): Float32Array {
  checkBits(params.bits);
  return fakeQuantLogInto(x, params, out);
}

/** Σ (x̂ − x)² for one candidate δ without materializing x̂: the log observers' MSE score. */
export function logErrorSum(x: Float32Array, kind: LogParams['kind'], bits: number, delta: number): number {
  const levels = 2 ** bits;
  const sqrt2 = kind === 'logsqrt2';
  const k = sqrt2 ? 2 : 1;
  let sum = 0;
  for (let i = 0; i < x.length; i++) {
    const q = logCode(x[i]!, delta, k, levels);
    const e = (q >= levels ? 0 : logValue(q, delta, sqrt2)) - x[i]!;
    sum += e * e;
  }
  return sum;
}
