// Host tensors for constant folding: the few element types shape arithmetic uses, with numpy broadcasting and
// index helpers. int64 stays BigInt end to end because exporters put INT64_MAX/INT64_MIN into Slice bounds;
// float32 results are stored in Float32Array, which rounds each operation's double result once, exactly as a
// float32 kernel does for + - * / and sqrt. Imports the IR's tensor helpers only.

import type { DType } from '../dtype.js';
import type { Tensor } from '../ir.js';
import { elementCount, makeTensor, typedData } from '../tensor.js';

export type FoldDType = 'float32' | 'float64' | 'int64' | 'int32' | 'bool';
export type FoldData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;

export interface Arr {
  dtype: FoldDType;
  dims: number[];
  data: FoldData;
}

/** Thrown by kernels for anything they will not fold (the node then stays for the runtime to compute). */
export class Unfoldable extends Error {}

export const FOLD_DTYPES: readonly DType[] = ['float32', 'float64', 'int64', 'int32', 'bool'];

export function isFoldDType(d: DType): d is FoldDType {
  return FOLD_DTYPES.includes(d);
}

export function isFloat(d: FoldDType): boolean {
  return d === 'float32' || d === 'float64';
}

export function alloc(dtype: FoldDType, n: number): FoldData {
  switch (dtype) {
    case 'float32':
      return new Float32Array(n);
    case 'float64':
      return new Float64Array(n);
    case 'int64':
      return new BigInt64Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'bool':
      return new Uint8Array(n);
  }
}

/** A new array of `n` elements computed by `f` (bigint for int64, number otherwise). */
export function build(dtype: FoldDType, n: number, f: (i: number) => number | bigint): FoldData {
  const out = alloc(dtype, n);
  if (out instanceof BigInt64Array) for (let i = 0; i < n; i++) out[i] = f(i) as bigint;
  else for (let i = 0; i < n; i++) out[i] = f(i) as number;
  return out;
}

export function fromTensor(t: Tensor): Arr | undefined {
  if (!isFoldDType(t.dtype)) return undefined;
  return { dtype: t.dtype, dims: [...t.dims], data: typedData(t) as FoldData };
}

export function toTensor(name: string, a: Arr): Tensor {
  return makeTensor(name, a.data, a.dims, a.dtype);
}

export function size(a: Arr): number {
  return elementCount(a.dims);
}

/** Integer tensor values as bigint (axes, starts, shapes). */
export function bigints(a: Arr): bigint[] {
  if (a.dtype !== 'int64' && a.dtype !== 'int32') throw new Unfoldable(`expected an integer tensor, got ${a.dtype}`);
  return Array.from(a.data as ArrayLike<number | bigint>, (v) => BigInt(v));
}

export function ints(a: Arr): number[] {
  return bigints(a).map((v) => Number(v));
}

export function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new Unfoldable(`axis ${axis} out of range for rank ${rank}`);
  return a;
}

export function stridesOf(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i]!;
  }
  return s;
}

/**
 * numpy broadcasting of several shapes, the one implementation (autodiff's shape inference uses it too); `fail` makes
 * the error for shapes that do not broadcast, given the message (folding gives up with Unfoldable).
 */
export function broadcastWith(shapes: readonly (readonly number[])[], fail: (message: string) => Error): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - rank + i] ?? 1;
      if (v === d || v === 1) continue;
      if (d !== 1) throw fail(`shapes [${shapes.map((x) => x.join(', ')).join('] and [')}] do not broadcast`);
      d = v;
    }
    out.push(d);
  }
  return out;
}

/** numpy broadcasting of several shapes for folding. */
export function broadcastDims(...shapes: (readonly number[])[]): number[] {
  return broadcastWith(shapes, (m) => new Unfoldable(m));
}

/** For each element of `outDims`, the flat index of the element of `inDims` that broadcasts to it. */
export function broadcastIndex(inDims: readonly number[], outDims: readonly number[]): Int32Array {
  const n = elementCount(outDims);
  const idx = new Int32Array(n);
  const inStrides = stridesOf(inDims);
  const offset = outDims.length - inDims.length;
  const coord = new Array<number>(outDims.length).fill(0);
  for (let i = 0; i < n; i++) {
    let j = 0;
    for (let k = 0; k < inDims.length; k++) if (inDims[k] !== 1) j += coord[k + offset]! * inStrides[k]!;
    idx[i] = j;
    for (let k = outDims.length - 1; k >= 0; k--) {
      if (++coord[k]! < outDims[k]!) break;
      coord[k] = 0;
    }
  }
  return idx;
}

/** Data movement: a new array of `dims` whose element i is `a`'s element `idx[i]`. */
export function take(a: Arr, idx: ArrayLike<number>, dims: number[]): Arr {
  const src = a.data;
  return { dtype: a.dtype, dims, data: build(a.dtype, idx.length, (i) => src[idx[i]!]!) };
}

/** Elementwise op over broadcast inputs; `f` receives the inputs' elements. */
export function elementwise(
  dtype: FoldDType,
  inputs: readonly Arr[],
  f: (...xs: (number | bigint)[]) => number | bigint,
): Arr {
  const dims = broadcastDims(...inputs.map((a) => a.dims));
  const maps = inputs.map((a) => broadcastIndex(a.dims, dims));
  const n = elementCount(dims);
  const xs = new Array<number | bigint>(inputs.length);
  const data = build(dtype, n, (i) => {
    for (let k = 0; k < inputs.length; k++) xs[k] = inputs[k]!.data[maps[k]![i]!]!;
    return f(...xs);
  });
  return { dtype, dims, data };
}
