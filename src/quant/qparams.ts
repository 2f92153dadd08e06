// Quantization parameters as plain data: what calibration produces, what graph passes read from annotations and
// what the `<out>.quant.json` sidecar stores. No typed arrays, no classes, so JSON round-trips them unchanged.
// Owns the grid conventions (qmin/qmax per bit width and signedness) and the "can QuantizeLinear express this"
// test. Imports only errors.ts.

import { usageError } from '../errors.js';

/**
 * Uniform affine quantizer: q = clamp(round(x/scale) + zeroPoint, qmin, qmax), x̂ = (q − zeroPoint)·scale.
 * `axis` null means per tensor (one scale/zero-point); otherwise one entry per slice along that (non-negative)
 * axis. Zero-points are usually integers in [qmin, qmax]; RepQ-ViT's search and its reparameterization produce
 * negative, too-large or fractional ones by design, so the type allows any finite number.
 *
 * Conventions: asymmetric grids are unsigned [0, 2^b − 1]; symmetric grids are the full signed range
 * [−2^(b−1), 2^(b−1) − 1] with zero-point 0 (the int8 grid of QuantizeLinear and of Q-Diffusion's `--a_sym`).
 * Symmetric observers put +absmax on code 2^(b−1) − 1, i.e. scale = absmax / (2^(b−1) − 1) (Q-Diffusion's
 * `absmax/127` at 8 bits), so code −2^(b−1) is reachable only by values beyond the calibrated range.
 */
export interface UniformParams {
  kind: 'uniform';
  bits: number;
  symmetric: boolean;
  axis: number | null;
  scale: number[];
  zeroPoint: number[];
  qmin: number;
  qmax: number;
}

/**
 * Logarithmic quantizer of non-negative data (post-Softmax). `scale` is δ, the largest representable value.
 * 'logsqrt2' (RepQ-ViT): x̂ = δ·2^(−q/2); 'log2': x̂ = δ·2^(−q); codes q ∈ [0, 2^b − 1], codes ≥ 2^b underflow to 0.
 */
export interface LogParams {
  kind: 'log2' | 'logsqrt2';
  bits: number;
  scale: number;
}

export type QuantParams = UniformParams | LogParams;

/** Integer element types of QuantizeLinear/DequantizeLinear (int4/uint4 and 16-bit need opset 21). */
export type IntDType = 'int8' | 'uint8' | 'int4' | 'uint4' | 'int16' | 'uint16';

const DTYPE_RANGE: Record<IntDType, [number, number]> = {
  int4: [-8, 7],
  uint4: [0, 15],
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
};

export const MIN_BITS = 2;
export const MAX_BITS = 16;

/** Throws a usage error unless `bits` is an integer in [2, 16]. */
export function checkBits(bits: number, what = 'bit width'): void {
  if (!Number.isInteger(bits) || bits < MIN_BITS || bits > MAX_BITS) {
    throw usageError(`${what} must be an integer from ${MIN_BITS} to ${MAX_BITS}, got ${bits}`);
  }
}

/** The code range for `bits` bits: [0, 2^b − 1] asymmetric, [−2^(b−1), 2^(b−1) − 1] symmetric. */
export function uniformGrid(bits: number, symmetric: boolean): { qmin: number; qmax: number } {
  checkBits(bits);
  return symmetric ? { qmin: -(2 ** (bits - 1)), qmax: 2 ** (bits - 1) - 1 } : { qmin: 0, qmax: 2 ** bits - 1 };
}

/**
 * Builds uniform params with the grid implied by `bits`/`symmetric`. Scales and zero-points are rounded to float32
 * here, once, because the fake-quant graph stores them as float32 initializers: the sidecar, the graph and the
 * TypeScript reference then use the very same numbers.
 */
export function makeUniformParams(p: {
  bits: number;
  symmetric: boolean;
  axis: number | null;
  scale: readonly number[];
  zeroPoint: readonly number[];
}): UniformParams {
  const { qmin, qmax } = uniformGrid(p.bits, p.symmetric);
  const params: UniformParams = {
    kind: 'uniform',
    bits: p.bits,
    symmetric: p.symmetric,
    axis: p.axis,
    scale: p.scale.map((s) => Math.fround(s)),
    zeroPoint: p.zeroPoint.map((z) => Math.fround(z) + 0), // + 0 turns −0 into 0 for tidy JSON
    qmin,
    qmax,
  };
  validateQuantParams(params);
  return params;
}

/** Builds log params (scale rounded to float32 for the same reason as in makeUniformParams). */
export function makeLogParams(kind: LogParams['kind'], bits: number, scale: number): LogParams {
  const params: LogParams = { kind, bits, scale: Math.fround(scale) };
  validateQuantParams(params);
  return params;
}

/**
 * Checks the invariants every consumer relies on; throws a usage error naming the first violation. With `dims`,
 * also checks that a per-channel quantizer matches the tensor it is applied to.
 */
export function validateQuantParams(p: QuantParams, dims?: readonly number[]): void {
  checkBits(p.bits);
  if (p.kind !== 'uniform') {
    if (!(Number.isFinite(p.scale) && p.scale > 0)) throw usageError(`${p.kind} scale must be > 0, got ${p.scale}`);
    return;
  }
  const grid = uniformGrid(p.bits, p.symmetric);
  if (p.qmin !== grid.qmin || p.qmax !== grid.qmax) {
    throw usageError(
      `${p.bits}-bit ${p.symmetric ? 'symmetric' : 'asymmetric'} grid must be [${grid.qmin}, ${grid.qmax}], ` +
        `got [${p.qmin}, ${p.qmax}]`,
    );
  }
  if (p.scale.length === 0 || p.scale.length !== p.zeroPoint.length) {
    throw usageError(`scale (${p.scale.length}) and zeroPoint (${p.zeroPoint.length}) must be non-empty and equal`);
  }
  if (p.axis === null) {
    if (p.scale.length !== 1) throw usageError(`per-tensor params need one scale, got ${p.scale.length}`);
  } else if (!Number.isInteger(p.axis) || p.axis < 0) {
    throw usageError(`axis must be null or a non-negative integer, got ${p.axis}`);
  }
  for (const s of p.scale) if (!(Number.isFinite(s) && s > 0)) throw usageError(`scales must be > 0, got ${s}`);
  for (const z of p.zeroPoint) if (!Number.isFinite(z)) throw usageError(`zero-points must be finite, got ${z}`);
  if (p.symmetric && p.zeroPoint.some((z) => z !== 0)) throw usageError('symmetric params must have zero-point 0');
  if (dims !== undefined && p.axis !== null) {
    const c = dims[p.axis];
    if (c === undefined) throw usageError(`axis ${p.axis} is out of range for a rank-${dims.length} tensor`);
    if (c !== p.scale.length) throw usageError(`axis ${p.axis} has ${c} channels but params have ${p.scale.length}`);
  }
}

/**
 * Why QuantizeLinear/DequantizeLinear with element type `dtype` cannot reproduce `p` exactly, or null when it can.
 * QuantizeLinear saturates to the full range of its element type, so the grid must be exactly that range (a 6-bit
 * grid in int8 would need an extra Clip), and zero-points must be integers inside it.
 */
export function qdqIncompatibility(p: QuantParams, dtype: IntDType): string | null {
  if (p.kind !== 'uniform') return `${p.kind} quantizer has no QuantizeLinear form`;
  const [lo, hi] = DTYPE_RANGE[dtype];
  if (p.qmin !== lo || p.qmax !== hi) return `${p.bits}-bit grid [${p.qmin}, ${p.qmax}] is not the ${dtype} range`;
  for (const z of p.zeroPoint) {
    if (!Number.isInteger(z)) return `zero-point ${z} is not an integer`;
    if (z < lo || z > hi) return `zero-point ${z} is outside the ${dtype} range [${lo}, ${hi}]`;
  }
  return null;
}

/** True when QuantizeLinear/DequantizeLinear with element type `dtype` reproduces `p` exactly. */
export function isIntegerRepresentable(p: QuantParams, dtype: IntDType): boolean {
  return qdqIncompatibility(p, dtype) === null;
}

/** The element type whose range is exactly the grid of `p` (the only candidate for a QDQ export), or null. */
export function qdqDTypeFor(p: QuantParams): IntDType | null {
  if (p.kind !== 'uniform') return null;
  for (const [dtype, [lo, hi]] of Object.entries(DTYPE_RANGE) as [IntDType, [number, number]][]) {
    if (p.qmin === lo && p.qmax === hi) return dtype;
  }
  return null;
}
