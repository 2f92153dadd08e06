// Index arithmetic for "one parameter per slice along an axis" on row-major tensors, shared by the quantizers and
// the per-channel observers. Imports only errors.ts.

import { usageError } from '../errors.js';

/**
 * A row-major tensor seen as [outer, channels, inner] around one axis: element (o, c, i) is at
 * (o·channels + c)·inner + i. Per-tensor treatment is channels = 1, inner = size.
 */
export interface ChannelLayout {
  axis: number | null;
  outer: number;
  channels: number;
  inner: number;
}

/** Resolves a possibly negative axis (−1 = last) against `rank`; throws a usage error when out of range. */
export function normalizeAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw usageError(`axis ${axis} is out of range for a rank-${rank} tensor`);
  }
  return a;
}

export function sizeOf(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** Layout of `dims` around `axis` (null = per tensor); checks that `length` matches the dims. */
export function channelLayout(dims: readonly number[], axis: number | null, length: number): ChannelLayout {
  const size = sizeOf(dims);
  if (size !== length) throw usageError(`tensor has ${length} elements but dims [${dims.join(', ')}] need ${size}`);
  if (axis === null) return { axis: null, outer: 1, channels: 1, inner: size };
  const a = normalizeAxis(axis, dims.length);
  return { axis: a, outer: sizeOf(dims.slice(0, a)), channels: dims[a]!, inner: sizeOf(dims.slice(a + 1)) };
}

/**
 * Copies channel `c` of `x` into the front of `dst` (which must hold outer·inner values) and returns the filled
 * view. Pooling every element of one channel is what per-channel calibration needs, e.g. all B·N tokens of
 * channel c of a [B, N, C] activation.
 */
export function gatherChannel(x: Float32Array, l: ChannelLayout, c: number, dst: Float32Array): Float32Array {
  const { outer, channels, inner } = l;
  let k = 0;
  for (let o = 0; o < outer; o++) {
    const base = (o * channels + c) * inner;
    for (let i = 0; i < inner; i++) dst[k++] = x[base + i]!;
  }
  return dst.subarray(0, k);
}
