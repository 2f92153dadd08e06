// NaN or Inf in input data poisons every statistic computed downstream (min/max ranges, MSE searches) without an
// error, so float data is checked once where it enters.

import { dataError } from '../errors.js';
import type { HostTensor } from '../util/host-tensor.js';

/** Row-major multi-index of flat position `flat` in `dims`. */
export function unravelIndex(flat: number, dims: readonly number[]): number[] {
  const idx = new Array<number>(dims.length).fill(0);
  for (let d = dims.length - 1; d >= 0; d--) {
    const n = dims[d]!;
    idx[d] = n > 0 ? flat % n : 0;
    flat = n > 0 ? Math.floor(flat / n) : 0;
  }
  return idx;
}

// One loop per array type: a loop that sees both Float32Array and Float64Array becomes polymorphic in V8 and runs
// about 3x slower, and every probed activation passes through here (bench/results/profile.json).
function firstNonFinite32(data: Float32Array): number {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    // v - v is 0 for finite v and NaN for NaN and +-Inf: one comparison per element.
    if (v - v !== 0) return i;
  }
  return -1;
}

function firstNonFinite64(data: Float64Array): number {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v - v !== 0) return i;
  }
  return -1;
}

/** Index of the first NaN/Inf in `data`, or -1. */
export function firstNonFinite(data: Float32Array | Float64Array): number {
  return data instanceof Float32Array ? firstNonFinite32(data) : firstNonFinite64(data);
}

/** Throws a data error naming `what` and the first non-finite element of a float tensor; other dtypes pass. */
export function checkFinite(t: HostTensor, what: string): void {
  if (!(t.data instanceof Float32Array || t.data instanceof Float64Array)) return;
  const i = firstNonFinite(t.data);
  if (i < 0) return;
  const at = t.dims.length > 1 ? `index [${unravelIndex(i, t.dims).join(', ')}] (flat ${i})` : `index ${i}`;
  throw dataError(
    `${what} has a non-finite value (${String(t.data[i])}) at ${at}`,
    'clean the data: NaN and Inf would corrupt every range computed from it',
  );
}
