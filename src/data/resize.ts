// Bilinear resampling of float planes, the way PIL's Image.resize(BILINEAR) does it (what torchvision's Resize
// applies to the PIL images timm evaluates on): a triangle filter whose support widens with the downscale factor,
// so shrinking averages over every source pixel instead of aliasing. Upscaling reduces to ordinary bilinear with
// half-pixel centres and clamped edges. Unlike PIL we keep float precision between the two passes and do not
// round to uint8, so values can differ from PIL's by about one grey level.

export interface ResampleTable {
  /** First source index for each output index. */
  starts: Int32Array;
  /** Number of taps for each output index. */
  counts: Int32Array;
  /** `taps` weights per output index (row-major, zero past `counts`), each row summing to 1. */
  weights: Float64Array;
  taps: number;
}

/** Filter taps for resampling a line of `inSize` samples to `outSize` (PIL's precompute_coeffs, bilinear). */
export function resampleTable(inSize: number, outSize: number): ResampleTable {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // the triangle filter's support is 1, stretched by the downscale factor
  const taps = Math.ceil(support) * 2 + 1;
  const starts = new Int32Array(outSize);
  const counts = new Int32Array(outSize);
  const weights = new Float64Array(outSize * taps);
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    // Math.trunc, not floor: PIL casts with (int), which matters only below zero and is clamped anyway.
    const lo = Math.max(0, Math.trunc(center - support + 0.5));
    const hi = Math.min(inSize, Math.trunc(center + support + 0.5));
    let sum = 0;
    for (let x = lo; x < hi; x++) {
      const t = Math.abs((x - center + 0.5) / filterScale);
      const w = t < 1 ? 1 - t : 0;
      weights[i * taps + (x - lo)] = w;
      sum += w;
    }
    if (sum !== 0) for (let k = 0; k < hi - lo; k++) weights[i * taps + k]! /= sum;
    starts[i] = lo;
    counts[i] = hi - lo;
  }
  return { starts, counts, weights, taps };
}

/** The part of the resized image to compute: rows [top, top + height), columns [left, left + width). */
export interface ResizeWindow {
  top: number;
  left: number;
  height: number;
  width: number;
}

/**
 * Resize `planes` channels of `inH` x `inW` float pixels (planar) to `outH` x `outW`, computing only `window`
 * of the result (default: all of it), so that a resize followed by a center crop never computes pixels that the
 * crop throws away. Returns planes of window.height x window.width.
 */
export function resizeBilinear(
  src: Float32Array,
  planes: number,
  inH: number,
  inW: number,
  outH: number,
  outW: number,
  window: ResizeWindow = { top: 0, left: 0, height: outH, width: outW },
): Float32Array {
  const { top, left, height: wh, width: ww } = window;
  const tx = resampleTable(inW, outW);
  const ty = resampleTable(inH, outH);
  const [xs, xn, xw, xt] = [tx.starts, tx.counts, tx.weights, tx.taps];
  const [ys, yn, yw, yt] = [ty.starts, ty.counts, ty.weights, ty.taps];
  // Source rows the window's output rows read; only those go through the horizontal pass.
  const r0 = ys[top]!;
  const r1 = ys[top + wh - 1]! + yn[top + wh - 1]!;
  const rows = r1 - r0;
  // Horizontal pass first (as PIL does): source rows r0..r1 x window columns, per plane.
  const mid = new Float32Array(planes * rows * ww);
  for (let p = 0; p < planes; p++) {
    for (let r = 0; r < rows; r++) {
      const row = p * inH * inW + (r0 + r) * inW;
      const orow = (p * rows + r) * ww;
      for (let x = 0; x < ww; x++) {
        const ox = left + x;
        const s = row + xs[ox]!;
        const n = xn[ox]!;
        const wo = ox * xt;
        let acc = 0;
        for (let k = 0; k < n; k++) acc += src[s + k]! * xw[wo + k]!;
        mid[orow + x] = acc;
      }
    }
  }
  const out = new Float32Array(planes * wh * ww);
  for (let p = 0; p < planes; p++) {
    for (let y = 0; y < wh; y++) {
      const oy = top + y;
      const n = yn[oy]!;
      const wo = oy * yt;
      const base = (p * rows + ys[oy]! - r0) * ww;
      const orow = (p * wh + y) * ww;
      for (let x = 0; x < ww; x++) {
        let acc = 0;
        for (let k = 0; k < n; k++) acc += mid[base + k * ww + x]! * yw[wo + k]!;
        out[orow + x] = acc;
      }
    }
  }
  return out;
}
