// TypeScript kernels for the ops torch.onnx.export uses in shape arithmetic, with ONNX semantics for opsets
// 13-21: negative axes, axes as inputs (13+; ReduceProd from 18) or as attributes (older forms, still
// accepted), Slice clamping, Reshape's 0/-1, int64 wrap-around. `Shape` needs types rather than data and lives in
// constant-fold.ts. Anything outside what these kernels cover throws Unfoldable and the node stays.

import type { Node } from '../ir.js';
import { dtypeFromCode } from '../dtype.js';
import { elementCount } from '../tensor.js';
import {
  type Arr,
  type FoldDType,
  Unfoldable,
  alloc,
  bigints,
  broadcastDims,
  broadcastIndex,
  build,
  elementwise,
  fromTensor,
  ints,
  isFloat,
  isFoldDType,
  normAxis,
  stridesOf,
  take,
} from './fold-tensor.js';

export interface KernelContext {
  /** Largest output (elements) a kernel may allocate. */
  maxElements: number;
}

export type Kernel = (node: Node, inputs: readonly (Arr | undefined)[], ctx: KernelContext) => Arr;

const wrap64 = (v: bigint) => BigInt.asIntN(64, v);

function input(ins: readonly (Arr | undefined)[], i: number): Arr {
  const a = ins[i];
  if (a === undefined) throw new Unfoldable(`input ${i} is missing`);
  return a;
}

function checkSize(dims: readonly number[], ctx: KernelContext): void {
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) throw new Unfoldable(`bad shape [${dims.join(', ')}]`);
  if (elementCount(dims) > ctx.maxElements) throw new Unfoldable('output too large to fold');
}

/** Axes from an optional input (opset 13+) or else the attribute of the same name (older opsets). */
function axesOf(node: Node, ins: readonly (Arr | undefined)[], index: number): number[] | undefined {
  const fromInput = ins[index];
  if (fromInput !== undefined) return ints(fromInput);
  if (node.inputs[index] !== undefined && node.inputs[index] !== '') throw new Unfoldable('axes input not constant');
  return node.intsAttr('axes');
}

function sameDType(a: Arr, b: Arr): FoldDType {
  if (a.dtype !== b.dtype) throw new Unfoldable(`operand types differ (${a.dtype}, ${b.dtype})`);
  return a.dtype;
}

interface Arith {
  float: (x: number, y: number) => number;
  int32: (x: number, y: number) => number;
  int64: (x: bigint, y: bigint) => bigint;
}

function arithmetic(ops: Arith): Kernel {
  return (_node, ins) => {
    const [a, b] = [input(ins, 0), input(ins, 1)];
    const dtype = sameDType(a, b);
    if (dtype === 'bool') throw new Unfoldable('arithmetic on bool');
    const f =
      dtype === 'int64'
        ? (x: number | bigint, y: number | bigint) => ops.int64(x as bigint, y as bigint)
        : dtype === 'int32'
          ? (x: number | bigint, y: number | bigint) => ops.int32(x as number, y as number)
          : (x: number | bigint, y: number | bigint) => ops.float(x as number, y as number);
    return elementwise(dtype, [a, b], f);
  };
}

function nonZero<T extends number | bigint>(y: T): T {
  if (y === 0 || y === 0n) throw new Unfoldable('integer division by zero');
  return y;
}

function gather(node: Node, ins: readonly (Arr | undefined)[]): Arr {
  const [data, indices] = [input(ins, 0), input(ins, 1)];
  const axis = normAxis(node.intAttr('axis', 0), data.dims.length);
  const dim = data.dims[axis]!;
  const idx = bigints(indices).map((v) => {
    const k = Number(v < 0n ? v + BigInt(dim) : v);
    if (k < 0 || k >= dim) throw new Unfoldable(`index ${v} out of range for dimension ${dim}`);
    return k;
  });
  const outer = elementCount(data.dims.slice(0, axis));
  const inner = elementCount(data.dims.slice(axis + 1));
  const map: number[] = [];
  for (let o = 0; o < outer; o++)
    for (const k of idx) for (let r = 0; r < inner; r++) map.push((o * dim + k) * inner + r);
  return take(data, map, [...data.dims.slice(0, axis), ...indices.dims, ...data.dims.slice(axis + 1)]);
}

function unsqueeze(node: Node, ins: readonly (Arr | undefined)[]): Arr {
  const data = input(ins, 0);
  const axes = axesOf(node, ins, 1);
  if (axes === undefined) throw new Unfoldable('Unsqueeze without axes');
  const rank = data.dims.length + axes.length;
  const norm = new Set(axes.map((a) => normAxis(a, rank)));
  if (norm.size !== axes.length) throw new Unfoldable('repeated axis');
  const rest = [...data.dims];
  const dims = Array.from({ length: rank }, (_, i) => (norm.has(i) ? 1 : rest.shift()!));
  return { ...data, dims };
}

function squeeze(node: Node, ins: readonly (Arr | undefined)[]): Arr {
  const data = input(ins, 0);
  const axes = axesOf(node, ins, 1);
  const rank = data.dims.length;
  const drop = new Set(
    axes === undefined ? data.dims.flatMap((d, i) => (d === 1 ? [i] : [])) : axes.map((a) => normAxis(a, rank)),
  );
  for (const a of drop)
    if (data.dims[a] !== 1) throw new Unfoldable(`cannot squeeze dimension ${a} of size ${data.dims[a]}`);
  return { ...data, dims: data.dims.filter((_, i) => !drop.has(i)) };
}

function concat(node: Node, ins: readonly (Arr | undefined)[]): Arr {
  const parts = node.inputs.map((_, i) => input(ins, i));
  const first = parts[0];
  if (first === undefined) throw new Unfoldable('Concat without inputs');
  const rank = first.dims.length;
  const axis = normAxis(node.intAttr('axis') ?? Number.NaN, rank);
  for (const p of parts) {
    sameDType(first, p);
    if (p.dims.length !== rank || p.dims.some((d, i) => i !== axis && d !== first.dims[i]))
      throw new Unfoldable('Concat inputs do not line up');
  }
  const outer = elementCount(first.dims.slice(0, axis));
  const inner = elementCount(first.dims.slice(axis + 1));
  const values: (number | bigint)[] = [];
  for (let o = 0; o < outer; o++)
    for (const p of parts) {
      const chunk = p.dims[axis]! * inner;
      for (let j = 0; j < chunk; j++) values.push(p.data[o * chunk + j]!);
    }
  const dims = [...first.dims];
  dims[axis] = parts.reduce((s, p) => s + p.dims[axis]!, 0);
  return { dtype: first.dtype, dims, data: build(first.dtype, values.length, (i) => values[i]!) };
}

const clamp = (v: bigint, lo: bigint, hi: bigint) => (v < lo ? lo : v > hi ? hi : v);

function slice(_node: Node, ins: readonly (Arr | undefined)[]): Arr {
  const data = input(ins, 0);
  const starts = bigints(input(ins, 1));
  const ends = bigints(input(ins, 2));
  const rank = data.dims.length;
  const axes = ins[3] === undefined ? starts.map((_, i) => i) : ints(ins[3]).map((a) => normAxis(a, rank));
  const steps = ins[4] === undefined ? starts.map(() => 1n) : bigints(ins[4]);
  if (ends.length !== starts.length || axes.length !== starts.length || steps.length !== starts.length)
    throw new Unfoldable('Slice inputs differ in length');
  if (new Set(axes).size !== axes.length) throw new Unfoldable('repeated axis');
  const start = data.dims.map(() => 0);
  const step = data.dims.map(() => 1);
  const dims = [...data.dims];
  axes.forEach((ax, i) => {
    const dim = BigInt(data.dims[ax]!);
    const st = steps[i]!;
    if (st === 0n) throw new Unfoldable('Slice step 0');
    let s = starts[i]!;
    let e = ends[i]!;
    if (s < 0n) s += dim;
    if (e < 0n) e += dim;
    let count: bigint;
    if (st > 0n) {
      s = clamp(s, 0n, dim);
      e = clamp(e, 0n, dim);
      count = e > s ? (e - s + st - 1n) / st : 0n;
    } else {
      s = clamp(s, 0n, dim - 1n);
      e = clamp(e, -1n, dim - 1n);
      count = s > e ? (s - e - st - 1n) / -st : 0n;
    }
    start[ax] = Number(s);
    step[ax] = Number(st);
    dims[ax] = Number(count);
  });
  const strides = stridesOf(data.dims);
  const outStrides = stridesOf(dims);
  const map = Array.from({ length: elementCount(dims) }, (_, i) => {
    let src = 0;
    for (let k = 0; k < rank; k++)
      src += (start[k]! + (Math.floor(i / outStrides[k]!) % dims[k]!) * step[k]!) * strides[k]!;
    return src;
  });
  return take(data, map, dims);
}

function castValue(v: number | bigint, from: FoldDType, to: FoldDType): number | bigint {
  if (to === 'bool') return v !== 0 && v !== 0n ? 1 : 0;
  if (typeof v === 'bigint') {
    if (to === 'int64') return v;
    if (to === 'int32') return Number(BigInt.asIntN(32, v));
    // Number() of a BigInt beyond 2^53 rounds once to double and again to float32: not what a cast does.
    if (v > 2n ** 53n || v < -(2n ** 53n)) throw new Unfoldable('int64 too large to cast exactly');
    return Number(v);
  }
  if (isFloat(from) && (to === 'int64' || to === 'int32')) {
    if (!Number.isFinite(v)) throw new Unfoldable('cast of a non-finite float to an integer');
    return to === 'int64' ? BigInt(Math.trunc(v)) : Math.trunc(v);
  }
  return to === 'int64' ? BigInt(v) : v;
}

function cast(node: Node, ins: readonly (Arr | undefined)[]): Arr {
  const a = input(ins, 0);
  const to = dtypeFromCode(node.intAttr('to') ?? -1);
  if (to === undefined || !isFoldDType(to)) throw new Unfoldable(`Cast to ${to ?? '?'}`);
  return { dtype: to, dims: [...a.dims], data: build(to, a.data.length, (i) => castValue(a.data[i]!, a.dtype, to)) };
}

function reshape(node: Node, ins: readonly (Arr | undefined)[]): Arr {
  const data = input(ins, 0);
  const allowZero = node.intAttr('allowzero', 0) === 1;
  const shape = ints(input(ins, 1)).map((s, i) => (s === 0 && !allowZero ? (data.dims[i] ?? Number.NaN) : s));
  const infer = shape.indexOf(-1);
  if (infer >= 0) {
    const known = elementCount(shape.filter((_, i) => i !== infer));
    if (known === 0 || data.data.length % known !== 0) throw new Unfoldable('cannot infer the -1 dimension');
    shape[infer] = data.data.length / known;
  }
  if (shape.some((d) => !Number.isInteger(d) || d < 0) || elementCount(shape) !== data.data.length)
    throw new Unfoldable(`cannot reshape [${data.dims.join(', ')}] to [${shape.join(', ')}]`);
  return { ...data, dims: shape };
}

function constantOfShape(node: Node, ins: readonly (Arr | undefined)[], ctx: KernelContext): Arr {
  const dims = ints(input(ins, 0));
  checkSize(dims, ctx);
  const attr = node.attr('value');
  const value = attr === undefined ? { dtype: 'float32' as const, dims: [1], data: new Float32Array(1) } : undefined;
  const v = value ?? (attr?.type === 'tensor' ? fromTensor(attr.value) : undefined);
  if (v === undefined || v.data.length !== 1) throw new Unfoldable('ConstantOfShape value');
  return { dtype: v.dtype, dims, data: build(v.dtype, elementCount(dims), () => v.data[0]!) };
}

/** ceil(x / y) for integers of any sign (BigInt division truncates toward zero). */
function ceilDiv(x: bigint, y: bigint): bigint {
  const q = x / y;
  return q * y !== x && x > 0n === y > 0n ? q + 1n : q;
}

function range(_node: Node, ins: readonly (Arr | undefined)[], ctx: KernelContext): Arr {
  const [s, l, d] = [input(ins, 0), input(ins, 1), input(ins, 2)];
  sameDType(s, l);
  const dtype = sameDType(s, d);
  if (dtype === 'int64') {
    const [a, b, c] = [s.data[0] as bigint, l.data[0] as bigint, nonZero(d.data[0] as bigint)];
    const n = Math.max(Number(ceilDiv(b - a, c)), 0);
    checkSize([n], ctx);
    return { dtype, dims: [n], data: build(dtype, n, (i) => a + BigInt(i) * c) };
  }
  if (dtype === 'bool') throw new Unfoldable('Range on bool');
  const [a, b, c] = [s.data[0] as number, l.data[0] as number, d.data[0] as number];
  if (c === 0) throw new Unfoldable('Range delta 0');
  const diff = alloc(dtype, 1) as Float32Array | Float64Array | Int32Array;
  diff[0] = b - a;
  const n = Math.max(Math.ceil(diff[0]! / c), 0);
  checkSize([n], ctx);
  // ORT accumulates in the element type (value += delta), so a float32 range drifts the same way here.
  const out = alloc(dtype, n) as Float32Array | Float64Array | Int32Array;
  for (let i = 0, v = a; i < n; i++) {
    out[i] = v;
    v = out[i]! + c;
  }
  return { dtype, dims: [n], data: out };
}

function expand(_node: Node, ins: readonly (Arr | undefined)[], ctx: KernelContext): Arr {
  const data = input(ins, 0);
  const dims = broadcastDims(data.dims, ints(input(ins, 1)));
  checkSize(dims, ctx);
  return take(data, broadcastIndex(data.dims, dims), dims);
}

function transpose(node: Node, ins: readonly (Arr | undefined)[]): Arr {
  const data = input(ins, 0);
  const rank = data.dims.length;
  const perm = node.intsAttr('perm') ?? data.dims.map((_, i) => rank - 1 - i);
  if (perm.length !== rank || new Set(perm.map((p) => normAxis(p, rank))).size !== rank)
    throw new Unfoldable('bad perm');
  const dims = perm.map((p) => data.dims[p]!);
  const strides = stridesOf(data.dims);
  const outStrides = stridesOf(dims);
  const map = Array.from({ length: data.data.length }, (_, i) =>
    perm.reduce((src, p, k) => src + (Math.floor(i / outStrides[k]!) % dims[k]!) * strides[p]!, 0),
  );
  return take(data, map, dims);
}

function reduceProd(node: Node, ins: readonly (Arr | undefined)[]): Arr {
  const data = input(ins, 0);
  if (data.dtype === 'bool') throw new Unfoldable('ReduceProd on bool');
  const rank = data.dims.length;
  const keep = node.intAttr('keepdims', 1) === 1;
  const given = axesOf(node, ins, 1) ?? [];
  if (given.length === 0 && node.intAttr('noop_with_empty_axes', 0) === 1) return data;
  const axes = new Set(given.length === 0 ? data.dims.map((_, i) => i) : given.map((a) => normAxis(a, rank)));
  const keptDims = data.dims.map((d, i) => (axes.has(i) ? 1 : d));
  const outStrides = stridesOf(keptDims);
  const strides = stridesOf(data.dims);
  const n = elementCount(keptDims);
  const acc = build(data.dtype, n, () => (data.dtype === 'int64' ? 1n : 1));
  for (let i = 0; i < data.data.length; i++) {
    let j = 0;
    for (let k = 0; k < rank; k++)
      if (!axes.has(k)) j += (Math.floor(i / strides[k]!) % data.dims[k]!) * outStrides[k]!;
    if (acc instanceof BigInt64Array) acc[j] = wrap64(acc[j]! * (data.data[i] as bigint));
    else if (acc instanceof Int32Array) acc[j] = Math.imul(acc[j]!, data.data[i] as number);
    else acc[j] = acc[j]! * (data.data[i] as number);
  }
  return { dtype: data.dtype, dims: keep ? keptDims : data.dims.filter((_, i) => !axes.has(i)), data: acc };
}

function unaryFloat(f: (x: number) => number): Kernel {
  return (_node, ins) => {
    const a = input(ins, 0);
    if (!isFloat(a.dtype)) throw new Unfoldable(`float op on ${a.dtype}`);
    return { ...a, data: build(a.dtype, a.data.length, (i) => f(a.data[i] as number)) };
  };
}

function neg(_node: Node, ins: readonly (Arr | undefined)[]): Arr {
  const a = input(ins, 0);
  if (a.dtype === 'bool') throw new Unfoldable('Neg on bool');
  const f = (v: number | bigint) => (typeof v === 'bigint' ? wrap64(-v) : a.dtype === 'int32' ? -v | 0 : -v);
  return { ...a, data: build(a.dtype, a.data.length, (i) => f(a.data[i]!)) };
}

export const KERNELS: Readonly<Record<string, Kernel>> = {
  Identity: (_n, ins) => input(ins, 0),
  Gather: gather,
  Unsqueeze: unsqueeze,
  Squeeze: squeeze,
  Concat: concat,
  Slice: slice,
  Cast: cast,
  Reshape: reshape,
  Add: arithmetic({ float: (x, y) => x + y, int32: (x, y) => (x + y) | 0, int64: (x, y) => wrap64(x + y) }),
  Sub: arithmetic({ float: (x, y) => x - y, int32: (x, y) => (x - y) | 0, int64: (x, y) => wrap64(x - y) }),
  Mul: arithmetic({ float: (x, y) => x * y, int32: Math.imul, int64: (x, y) => wrap64(x * y) }),
  Div: arithmetic({
    float: (x, y) => x / y,
    int32: (x, y) => Math.trunc(x / nonZero(y)) | 0,
    int64: (x, y) => wrap64(x / nonZero(y)),
  }),
  Equal: (_n, ins) => {
    const [a, b] = [input(ins, 0), input(ins, 1)];
    sameDType(a, b);
    return elementwise('bool', [a, b], (x, y) => (x === y ? 1 : 0));
  },
  Where: (_n, ins) => {
    const [c, a, b] = [input(ins, 0), input(ins, 1), input(ins, 2)];
    if (c.dtype !== 'bool') throw new Unfoldable('Where condition is not bool');
    return elementwise(sameDType(a, b), [c, a, b], (p, x, y) => (p !== 0 ? x! : y!));
  },
  ConstantOfShape: constantOfShape,
  Range: range,
  Expand: expand,
  Transpose: transpose,
  ReduceProd: reduceProd,
  Sqrt: unaryFloat(Math.sqrt),
  Neg: neg,
};
