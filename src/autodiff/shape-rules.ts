// Output types (dtype + concrete dims) of the forward ops a differentiated graph may contain, one function per op
// type. Values of shape arithmetic are computed elsewhere (shapes.ts, with the constant folder's kernels); these
// functions only need them for the inputs that decide a shape (Reshape's target, Slice's bounds, axes inputs).
// Imports the IR, dtypes and dims helpers only.

import type { Node } from '../onnx/ir.js';
import { dtypeFromCode, type DType } from '../onnx/dtype.js';
import { type Arr, ints } from '../onnx/rewrite/fold-tensor.js';
import { broadcastShapes, convGeometry, normAxis, range, sliceAxes } from './dims.js';

export interface Known {
  dtype: DType;
  dims: number[];
  /** the constant value, for small shape-arithmetic tensors */
  value?: Arr;
}

/** Thrown when an output type cannot be known (an input type or a shape-deciding value is missing). */
export class Unknown extends Error {}

export type Ins = readonly (Known | undefined)[];
type ShapeFn = (node: Node, ins: Ins, opset: number) => Known[];

export function req(ins: Ins, i: number): Known {
  const k = ins[i];
  if (k === undefined) throw new Unknown(`input ${i}`);
  return k;
}

export function valueInts(ins: Ins, i: number): number[] {
  const v = req(ins, i).value;
  if (v === undefined) throw new Unknown(`value of input ${i}`);
  return ints(v);
}

/** Axes from the input `index` (opset >= `fromOpset`) or else the `axes` attribute; undefined when absent. */
export function axesOf(node: Node, ins: Ins, index: number, opset: number, fromOpset: number): number[] | undefined {
  if (opset < fromOpset) return node.intsAttr('axes');
  if ((node.inputs[index] ?? '') === '') return undefined;
  return valueInts(ins, index);
}

const same: ShapeFn = (_n, ins) => [{ dtype: req(ins, 0).dtype, dims: [...req(ins, 0).dims] }];
const bool = (dims: number[]): Known => ({ dtype: 'bool', dims });
const broadcast =
  (dtype?: (ins: Ins) => DType): ShapeFn =>
  (_n, ins) => [
    {
      dtype: dtype?.(ins) ?? req(ins, 0).dtype,
      dims: broadcastShapes(...ins.filter((k): k is Known => k !== undefined).map((k) => k.dims)),
    },
  ];

function reduce(inputFrom: number): ShapeFn {
  return (node, ins, opset) => {
    const x = req(ins, 0);
    const axes = axesOf(node, ins, 1, opset, inputFrom);
    const keep = node.intAttr('keepdims', 1) === 1;
    const noop = node.intAttr('noop_with_empty_axes', 0) === 1;
    const all = axes === undefined || axes.length === 0;
    if (all && noop) return [{ dtype: x.dtype, dims: [...x.dims] }];
    const set = new Set(all ? range(x.dims.length) : axes.map((a) => normAxis(a, x.dims.length, node)));
    const dims = x.dims.flatMap((d, i) => (set.has(i) ? (keep ? [1] : []) : [d]));
    return [{ dtype: x.dtype, dims }];
  };
}

function matmul(a: readonly number[], b: readonly number[]): number[] {
  const a2 = a.length === 1 ? [1, a[0]!] : a;
  const b2 = b.length === 1 ? [b[0]!, 1] : b;
  const batch = broadcastShapes(a2.slice(0, -2), b2.slice(0, -2));
  const out = [...batch, a2.at(-2)!, b2.at(-1)!];
  if (b.length === 1) out.pop();
  if (a.length === 1) out.splice(out.length - (b.length === 1 ? 1 : 2), 1);
  return out;
}

function pool(node: Node, ins: Ins): Known[] {
  const x = req(ins, 0);
  const kernel = node.intsAttr('kernel_shape') ?? [];
  const g = convGeometry(node, x.dims.slice(2), kernel, node.intAttr('ceil_mode', 0) === 1);
  return [{ dtype: x.dtype, dims: [x.dims[0]!, x.dims[1]!, ...g.out] }];
}

function reshape(node: Node, ins: Ins): Known[] {
  const x = req(ins, 0);
  const target = valueInts(ins, 1);
  const allowZero = node.intAttr('allowzero', 0) === 1;
  const dims = target.map((d, i) => (d === 0 && !allowZero ? x.dims[i]! : d));
  const known = dims.reduce((p, d) => (d === -1 ? p : p * d), 1);
  const total = x.dims.reduce((p, d) => p * d, 1);
  return [{ dtype: x.dtype, dims: dims.map((d) => (d === -1 ? total / known : d)) }];
}

function split(node: Node, ins: Ins, opset: number): Known[] {
  const x = req(ins, 0);
  const axis = normAxis(node.intAttr('axis', 0), x.dims.length, node);
  const n = node.outputs.length;
  let sizes = opset >= 13 ? ((node.inputs[1] ?? '') === '' ? undefined : valueInts(ins, 1)) : node.intsAttr('split');
  if (sizes === undefined) {
    const each = Math.ceil(x.dims[axis]! / n);
    sizes = range(n).map((i) => Math.min(each, x.dims[axis]! - i * each));
  }
  return sizes.map((s) => ({ dtype: x.dtype, dims: x.dims.map((d, i) => (i === axis ? s : d)) }));
}

function gather(node: Node, ins: Ins): Known[] {
  const [x, idx] = [req(ins, 0), req(ins, 1)];
  const axis = normAxis(node.intAttr('axis', 0), x.dims.length, node);
  return [{ dtype: x.dtype, dims: [...x.dims.slice(0, axis), ...idx.dims, ...x.dims.slice(axis + 1)] }];
}

function unsqueeze(node: Node, ins: Ins, opset: number): Known[] {
  const x = req(ins, 0);
  const axes = axesOf(node, ins, 1, opset, 13) ?? [];
  const rank = x.dims.length + axes.length;
  const set = new Set(axes.map((a) => normAxis(a, rank, node)));
  const rest = [...x.dims];
  return [{ dtype: x.dtype, dims: range(rank).map((i) => (set.has(i) ? 1 : rest.shift()!)) }];
}

function squeeze(node: Node, ins: Ins, opset: number): Known[] {
  const x = req(ins, 0);
  const axes = axesOf(node, ins, 1, opset, 13);
  const set = new Set(
    axes?.map((a) => normAxis(a, x.dims.length, node)) ?? range(x.dims.length).filter((i) => x.dims[i] === 1),
  );
  return [{ dtype: x.dtype, dims: x.dims.filter((_, i) => !set.has(i)) }];
}

function pad(node: Node, ins: Ins, opset: number): Known[] {
  const x = req(ins, 0);
  const pads = opset >= 11 ? valueInts(ins, 1) : (node.intsAttr('pads') ?? []);
  const r = x.dims.length;
  const axes = opset >= 18 && (node.inputs[3] ?? '') !== '' ? valueInts(ins, 3).map((a) => normAxis(a, r)) : range(r);
  const dims = [...x.dims];
  axes.forEach((a, i) => (dims[a] = dims[a]! + pads[i]! + pads[i + axes.length]!));
  return [{ dtype: x.dtype, dims }];
}

function resize(node: Node, ins: Ins): Known[] {
  const x = req(ins, 0);
  if ((node.inputs[3] ?? '') !== '') return [{ dtype: x.dtype, dims: valueInts(ins, 3) }];
  const v = req(ins, 2).value;
  if (v === undefined) throw new Unknown('Resize scales');
  const scales = Array.from(v.data as Float32Array, Number);
  return [{ dtype: x.dtype, dims: x.dims.map((d, i) => Math.floor(d * scales[i]!)) }];
}

export const SHAPE_RULES: Readonly<Record<string, ShapeFn>> = {
  ...Object.fromEntries(
    'Relu Sigmoid Tanh Erf Sqrt Exp Log Neg Abs Sin Cos Round Floor Ceil Identity Softmax LogSoftmax Reciprocal Sign Clip LeakyRelu Elu Softplus HardSigmoid Gelu CumSum InstanceNormalization BatchNormalization'
      .split(' ')
      .map((op) => [op, same]),
  ),
  ...Object.fromEntries('Add Sub Mul Div Pow Max Min Sum Mean Mod PRelu'.split(' ').map((op) => [op, broadcast()])),
  ...Object.fromEntries(
    'Equal Greater Less GreaterOrEqual LessOrEqual And Or Xor'.split(' ').map((op) => [op, broadcast(() => 'bool')]),
  ),
  Not: (_n, ins) => [bool([...req(ins, 0).dims])],
  IsNaN: (_n, ins) => [bool([...req(ins, 0).dims])],
  Dropout: (_n, ins) => [{ ...req(ins, 0), value: undefined }, bool([...req(ins, 0).dims])],
  Where: broadcast((ins) => req(ins, 1).dtype),
  Cast: (node, ins) => [{ dtype: dtypeFromCode(node.intAttr('to', 1)) ?? 'float32', dims: [...req(ins, 0).dims] }],
  CastLike: (_n, ins) => [{ dtype: req(ins, 1).dtype, dims: [...req(ins, 0).dims] }],
  MatMul: (_n, ins) => [{ dtype: req(ins, 0).dtype, dims: matmul(req(ins, 0).dims, req(ins, 1).dims) }],
  Gemm: (node, ins) => {
    const [a, b] = [req(ins, 0).dims, req(ins, 1).dims];
    const m = node.intAttr('transA', 0) ? a[1]! : a[0]!;
    const n = node.intAttr('transB', 0) ? b[0]! : b[1]!;
    return [{ dtype: req(ins, 0).dtype, dims: [m, n] }];
  },
  Conv: (node, ins) => {
    const [x, w] = [req(ins, 0), req(ins, 1)];
    const g = convGeometry(node, x.dims.slice(2), node.intsAttr('kernel_shape') ?? w.dims.slice(2));
    return [{ dtype: x.dtype, dims: [x.dims[0]!, w.dims[0]!, ...g.out] }];
  },
  MaxPool: pool,
  AveragePool: pool,
  GlobalAveragePool: (_n, ins) => [{ dtype: req(ins, 0).dtype, dims: req(ins, 0).dims.map((d, i) => (i < 2 ? d : 1)) }],
  GlobalMaxPool: (_n, ins) => [{ dtype: req(ins, 0).dtype, dims: req(ins, 0).dims.map((d, i) => (i < 2 ? d : 1)) }],
  ReduceSum: reduce(13),
  ...Object.fromEntries(
    'ReduceMean ReduceMax ReduceMin ReduceProd ReduceL1 ReduceL2 ReduceSumSquare ReduceLogSumExp'
      .split(' ')
      .map((op) => [op, reduce(18)]),
  ),
  LayerNormalization: (node, ins) => {
    const x = req(ins, 0);
    const axis = normAxis(node.intAttr('axis', -1), x.dims.length, node);
    const stat: Known = { dtype: 'float32', dims: x.dims.map((d, i) => (i < axis ? d : 1)) };
    return [{ dtype: x.dtype, dims: [...x.dims] }, stat, { ...stat }];
  },
  Reshape: reshape,
  Transpose: (node, ins) => {
    const x = req(ins, 0);
    const perm = node.intsAttr('perm') ?? range(x.dims.length).reverse();
    return [{ dtype: x.dtype, dims: perm.map((p) => x.dims[p]!) }];
  },
  Flatten: (node, ins) => {
    const x = req(ins, 0);
    const axis = normAxis(node.intAttr('axis', 1), x.dims.length + 1, node);
    const prod = (d: number[]) => d.reduce((p, v) => p * v, 1);
    return [{ dtype: x.dtype, dims: [prod(x.dims.slice(0, axis)), prod(x.dims.slice(axis))] }];
  },
  Concat: (node, ins) => {
    const all = node.inputs.map((_, i) => req(ins, i));
    const axis = normAxis(node.intAttr('axis', 0), all[0]!.dims.length, node);
    const dims = [...all[0]!.dims];
    dims[axis] = all.reduce((s, k) => s + k.dims[axis]!, 0);
    return [{ dtype: all[0]!.dtype, dims }];
  },
  Split: split,
  Slice: (node, ins, opset) => {
    const x = req(ins, 0);
    if (opset < 10) throw new Unknown('Slice before opset 10');
    const opt = (i: number) => ((node.inputs[i] ?? '') === '' ? undefined : valueInts(ins, i));
    const axes = sliceAxes(x.dims, valueInts(ins, 1), valueInts(ins, 2), opt(3), opt(4));
    const dims = [...x.dims];
    for (const a of axes) dims[a.axis] = a.count;
    return [{ dtype: x.dtype, dims }];
  },
  Gather: gather,
  GatherElements: (_n, ins) => [{ dtype: req(ins, 0).dtype, dims: [...req(ins, 1).dims] }],
  Unsqueeze: unsqueeze,
  Squeeze: squeeze,
  Expand: (_n, ins) => [{ dtype: req(ins, 0).dtype, dims: broadcastShapes(req(ins, 0).dims, valueInts(ins, 1)) }],
  Tile: (_n, ins) => [{ dtype: req(ins, 0).dtype, dims: req(ins, 0).dims.map((d, i) => d * valueInts(ins, 1)[i]!) }],
  Pad: pad,
  Resize: resize,
  ConstantOfShape: (node, ins) => {
    const v = node.attr('value');
    return [{ dtype: v?.type === 'tensor' ? v.value.dtype : 'float32', dims: valueInts(ins, 0) }];
  },
};
