// Quantiles with torch.quantile's default linear interpolation, computed by selection rather than sorting, and
// several quantiles of one tensor from one copy (RepQ-ViT needs six per candidate set). Imports select.ts and
// errors.ts only.
//
// Faithfulness detail: RepQ-ViT calls torch.quantile on float32 tensors, where the position q·(n − 1) and the
// interpolation are float32 arithmetic; above 2^24 elements torch refuses and the reference falls back to
// np.percentile(x, 100·p), i.e. float64 arithmetic. Both regimes are reproduced here.

import { dataError, usageError } from '../errors.js';
import { selectManyInPlace } from './select.js';

const f32 = Math.fround;
/** Largest input torch.quantile accepts (torch 1.13); beyond it the reference uses numpy. */
export const TORCH_QUANTILE_MAX = 2 ** 24;

/** The lower neighbour's index and the interpolation weight for quantile p of n sorted values. */
export function quantilePosition(n: number, p: number): { below: number; weight: number } {
  if (!(p >= 0 && p <= 1)) throw usageError(`quantile level must be in [0, 1], got ${p}`);
  if (n <= TORCH_QUANTILE_MAX) {
    const rank = f32(f32(p) * (n - 1));
    const below = Math.floor(rank);
    return { below, weight: rank - below };
  }
  const rank = ((p * 100) / 100) * (n - 1);
  const below = Math.floor(rank);
  return { below, weight: rank - below };
}

// torch.lerp's formula (it switches ends at weight 0.5 for accuracy), in float32 or float64 like the reference.
function lerp(lo: number, hi: number, w: number, n: number): number {
  if (w === 0 || lo === hi) return lo;
  if (n > TORCH_QUANTILE_MAX) return f32(w < 0.5 ? lo + w * (hi - lo) : hi - (hi - lo) * (1 - w));
  const d = f32(hi - lo);
  return w < 0.5 ? f32(lo + f32(w * d)) : f32(hi - f32(d * f32(1 - w)));
}

function checkNoNaN(a: Float32Array, what: string): void {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== a[i]) throw dataError(`${what}: input contains NaN (first at flat index ${i})`);
  }
}

/**
 * Quantiles of `buf` at each level of `ps`, REORDERING `buf` (use it on a scratch copy). Exposed so callers that
 * already gathered a copy (per-channel observers) avoid a second one. Results are in the order of `ps`.
 */
export function quantilesInPlace(buf: Float32Array, ps: readonly number[], what = 'quantile'): number[] {
  const n = buf.length;
  if (n === 0) throw dataError(`${what}: input is empty`);
  checkNoNaN(buf, what);
  const pos = ps.map((p) => quantilePosition(n, p));
  const ranks = new Set<number>();
  for (const { below, weight } of pos) {
    ranks.add(below);
    if (weight > 0 && below + 1 < n) ranks.add(below + 1);
  }
  selectManyInPlace(
    buf,
    [...ranks].sort((a, b) => a - b),
  );
  return pos.map(({ below, weight }) => lerp(buf[below]!, buf[Math.min(below + 1, n - 1)]!, weight, n));
}

/** Quantiles of `x` at each level of `ps` (torch linear interpolation), from one copy of `x`. */
export function quantiles(x: Float32Array, ps: readonly number[]): number[] {
  return quantilesInPlace(x.slice(), ps);
}

/** The quantile of `x` at level p in [0, 1]: torch.quantile(x, p) with linear interpolation. */
export function quantile(x: Float32Array, p: number): number {
  return quantilesInPlace(x.slice(), [p])[0]!;
}
