// Round half to even, the rounding of torch.round, ONNX Round and QuantizeLinear. Every quantizer in src/quant
// rounds through this function so that the TypeScript reference agrees with the graphs it checks.
// Imports nothing.

// Adding 1.5·2^52 to |x| < 2^51 lands in [2^52, 2^53), where the doubles are exactly the integers, so the FPU's
// default ties-to-even rounding does the work; subtracting it back is exact. This is several times faster than
// Math.round (which also has the wrong tie rule) in the calibration searches' inner loops.
export const MAGIC = 1.5 * 2 ** 52;
export const MAGIC_LIMIT = 2 ** 51;

/**
 * Nearest integer, ties to the even neighbour: 0.5 → 0, 1.5 → 2, 2.5 → 2, −0.5 → 0, −1.5 → −2.
 * `Math.round` is wrong here: it sends every tie towards +∞ (−2.5 → −2 but 2.5 → 3).
 * NaN and ±Infinity pass through.
 */
export function roundHalfEven(x: number): number {
  if (x < MAGIC_LIMIT && x > -MAGIC_LIMIT) return x + MAGIC - MAGIC;
  // |x| ≥ 2^51: only [2^51, 2^52) can still hold halves; x − floor(x) is exact there.
  const f = Math.floor(x);
  const d = x - f;
  if (d === 0.5) return f % 2 === 0 ? f : f + 1;
  return d < 0.5 ? f : f + 1;
}

/**
 * roundHalfEven for a value known to be a float32 (hot loops inline this expression): every float32 of magnitude
 * ≥ 2^23 is already an integer, so the magic-number branch alone is exact.
 */
export function roundHalfEvenF32(r: number): number {
  return r < MAGIC_LIMIT && r > -MAGIC_LIMIT ? r + MAGIC - MAGIC : r;
}
