// RepQ-ViT's log-√2 → log2 reparameterization (repq-vit.md §4): the same values as the log-√2 fake quantizer,
// written so that inference needs only shifts. x̂ = s̃·2^(−ceil(q/2)) with a per-element scale s̃ that takes two
// values, δ for even codes and δ·√2 for odd ones. The reference code only simulates; these functions make the
// bit-shift form concrete so tests can check it equals the simulation, and give export code something to follow.
// Imports log-quantizers.ts and qparams.ts only.

import { SQRT2_F32 } from './log-quantizers.js';
import { checkBits, type LogParams, type UniformParams } from './qparams.js';

const f32 = Math.fround;

/** The two per-element scales s̃ of the reparameterized form: δ (even codes) and δ·√2 (odd codes), float32. */
export function logSqrt2ShiftScales(params: LogParams): { even: number; odd: number } {
  return { even: params.scale, odd: f32(params.scale * SQRT2_F32) };
}

/**
 * Evaluates s̃·2^(−ceil(q/2)) from log-√2 codes (codes ≥ 2^b are underflow, value 0). Multiplying a float32 by a
 * power of two is exact, so this equals `fakeQuantLogSqrt2` bit for bit whenever the result is a normal float32
 * (it can differ only in the subnormal range, below 1.2e-38).
 */
export function dequantLogSqrt2Shift(
  codes: Int32Array,
  params: LogParams,
  out: Float32Array = new Float32Array(codes.length),
): Float32Array {
  checkBits(params.bits);
  const levels = 2 ** params.bits;
  const { even, odd } = logSqrt2ShiftScales(params);
  for (let i = 0; i < codes.length; i++) {
    const q = codes[i]!;
    if (q >= levels) out[i] = 0;
    else out[i] = f32((q & 1 ? odd : even) * Math.pow(2, -((q + 1) >> 1)));
  }
  return out;
}

/**
 * The integer form of matmul2 (attention·V) from repq-vit.md §4, for A codes [m, k] (log-√2) and V codes [k, n]
 * (per-tensor uniform, integer or fractional zero-point):
 *   out[i, j] = δ·s_v·( Σ_{q_ik even} (v_kj − z_v)·2^(−ceil(q_ik/2)) + √2·Σ_{q_ik odd} (v_kj − z_v)·2^(−ceil(q_ik/2)) )
 * with underflow codes dropped. Hardware would shift a fixed-point accumulator; here the shift is an exact
 * multiplication by a power of two in float64, so the result equals the float matmul of the two fake-quantized
 * operands up to summation-order rounding.
 */
export function logSqrt2ShiftMatMul(
  aCodes: Int32Array,
  aParams: LogParams,
  vCodes: Float32Array,
  vParams: UniformParams,
  m: number,
  k: number,
  n: number,
  out: Float32Array = new Float32Array(m * n),
): Float32Array {
  checkBits(aParams.bits);
  if (vParams.axis !== null) throw new RangeError('logSqrt2ShiftMatMul needs per-tensor V params');
  if (aCodes.length !== m * k || vCodes.length !== k * n || out.length !== m * n) {
    throw new RangeError(`shape mismatch: A ${aCodes.length} vs ${m}x${k}, V ${vCodes.length} vs ${k}x${n}`);
  }
  const levels = 2 ** aParams.bits;
  const zv = vParams.zeroPoint[0]!;
  const factor = aParams.scale * vParams.scale[0]!;
  const evenSum = new Float64Array(n);
  const oddSum = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    evenSum.fill(0);
    oddSum.fill(0);
    for (let kk = 0; kk < k; kk++) {
      const q = aCodes[i * k + kk]!;
      if (q >= levels) continue;
      const shift = Math.pow(2, -((q + 1) >> 1));
      const acc = q & 1 ? oddSum : evenSum;
      const row = kk * n;
      for (let j = 0; j < n; j++) acc[j]! += (vCodes[row + j]! - zv) * shift;
    }
    for (let j = 0; j < n; j++) out[i * n + j] = factor * (evenSum[j]! + Math.SQRT2 * oddSum[j]!);
  }
  return out;
}
