import { describe, expect, it } from 'vitest';
import { dequantLogSqrt2Shift, logSqrt2ShiftMatMul, logSqrt2ShiftScales } from './log-reparam.js';
import { makeLogParams, makeUniformParams } from './qparams.js';
import {
  decodeLogCodes,
  fakeQuantLog2,
  fakeQuantLogSqrt2,
  fakeQuantUniform,
  log2Codes,
  logSqrt2Codes,
  quantizeUniform,
} from './quantizers.js';
import { firstMismatch, randn, rng, softmaxRows } from './test-helpers.js';

describe('log-√2 quantizer (RepQ-ViT §2.2)', () => {
  it("reproduces the spec's worked example at 4 bits, δ = 0.5", () => {
    const x = Float32Array.from([0, 1e-6, 1e-3, 3e-3, 0.01, 0.05, 0.1, 0.2, 0.35, 0.5, 0.9, 1.0]);
    const expected = [0, 0, 0, 0.00276, 0.01105, 0.04419, 0.08839, 0.17678, 0.35355, 0.5, 0.5, 0.5];
    const got = Array.from(fakeQuantLogSqrt2(x, makeLogParams('logsqrt2', 4, 0.5)));
    expect(got.map((v) => Number(v.toFixed(5)))).toEqual(expected);
  });

  it('sends underflow and exact zeros to 0, saturates above δ, and maps negatives to 0', () => {
    const p4 = makeLogParams('logsqrt2', 4, 0.5);
    const codes = logSqrt2Codes(Float32Array.from([0, 1e-6, 0.5, 0.9, 3e-3, -0.1]), p4);
    expect(Array.from(codes)).toEqual([16, 16, 0, 0, 15, 16]); // 16 = 2^b marks "zero"
    // "At 3 bits, everything below ≈0.03 becomes 0": the last code 7 covers x/δ ≥ 2^(−7.5/2) ≈ 0.0743.
    const p3 = makeLogParams('logsqrt2', 3, 0.5);
    const y = fakeQuantLogSqrt2(Float32Array.from([0.03, 0.036, 0.038, 0.05]), p3);
    expect(Array.from(y).map((v) => v > 0)).toEqual([false, false, true, true]);
  });

  it('keeps codes in [0, 2^b − 1] or the underflow sentinel, and is idempotent', () => {
    const x = softmaxRows(rng(21), 64, 50);
    for (const bits of [2, 3, 4, 6, 8]) {
      const p = makeLogParams('logsqrt2', bits, 0.3);
      const codes = logSqrt2Codes(x, p);
      const L = 2 ** bits;
      expect(codes.every((c) => (c >= 0 && c < L) || c === L)).toBe(true);
      const y = fakeQuantLogSqrt2(x, p);
      expect(firstMismatch(fakeQuantLogSqrt2(y, p), y)).toBe(-1);
      expect(firstMismatch(decodeLogCodes(codes, p), y)).toBe(-1);
    }
  });

  it('equals the reparameterized bit-shift form s̃·2^(−ceil(q/2)) exactly (log-√2 → log2)', () => {
    const rand = rng(22);
    for (const bits of [3, 4, 6, 8]) {
      const x = softmaxRows(rand, 128, 64, 2 + bits);
      const p = makeLogParams('logsqrt2', bits, 0.05 + rand() * 0.5);
      expect(firstMismatch(dequantLogSqrt2Shift(logSqrt2Codes(x, p), p), fakeQuantLogSqrt2(x, p))).toBe(-1);
    }
    const { even, odd } = logSqrt2ShiftScales(makeLogParams('logsqrt2', 4, 0.5));
    expect(even).toBe(0.5);
    expect(odd).toBeCloseTo(0.5 * Math.SQRT2, 7);
  });

  it('gives the integer-kernel matmul2 the value of the float matmul of the fake-quantized operands', () => {
    const rand = rng(23);
    const [m, k, n] = [6, 40, 5];
    const a = softmaxRows(rand, m, k, 2);
    const aParams = makeLogParams('logsqrt2', 4, 0.4);
    const v = randn(rand, k * n);
    const vParams = makeUniformParams({ bits: 4, symmetric: false, axis: null, scale: [0.3], zeroPoint: [7.4] });
    const aq = fakeQuantLogSqrt2(a, aParams);
    const vq = fakeQuantUniform(v, [k, n], vParams);
    const got = logSqrt2ShiftMatMul(
      logSqrt2Codes(a, aParams),
      aParams,
      quantizeUniform(v, [k, n], vParams),
      vParams,
      m,
      k,
      n,
    );
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let ref = 0;
        for (let kk = 0; kk < k; kk++) ref += aq[i * k + kk]! * vq[kk * n + j]!;
        expect(Math.abs(got[i * n + j]! - ref)).toBeLessThan(1e-5);
      }
    }
  });
});

describe('log2 quantizer', () => {
  it('uses code round(−log2(x/δ)), x̂ = δ·2^(−code), with the same underflow and saturation', () => {
    const p = makeLogParams('log2', 3, 1);
    const x = Float32Array.from([0, 2, 1, 0.75, 0.5, 0.3, 0.125, 1 / 128, 1 / 300, -1]);
    // 0.75 → −log2 = 0.415 → 0; 0.3 → 1.74 → 2; 1/128 → 7 (last code); 1/300 → 8.2 → underflow.
    expect(Array.from(log2Codes(x, p))).toEqual([8, 0, 0, 0, 1, 2, 3, 7, 8, 8]);
    expect(Array.from(fakeQuantLog2(x, p))).toEqual([0, 1, 1, 1, 0.5, 0.25, 0.125, 1 / 128, 0, 0]);
  });

  it('is idempotent and never exceeds δ', () => {
    const x = softmaxRows(rng(24), 32, 40);
    const p = makeLogParams('log2', 4, 0.2);
    const y = fakeQuantLog2(x, p);
    expect(firstMismatch(fakeQuantLog2(y, p), y)).toBe(-1);
    expect(Math.max(...y)).toBeLessThanOrEqual(p.scale);
  });
});
