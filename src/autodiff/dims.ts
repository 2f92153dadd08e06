// Shape arithmetic on concrete dims shared by shape inference and the gradient rules: broadcasting (fold-tensor's,
// with a model error), axes, Slice bounds and Conv/pool geometry. Pure functions; imports only the IR, the typed
// errors and fold-tensor.

import type { Node } from '../onnx/ir.js';
import { modelError } from '../errors.js';
import { broadcastWith } from '../onnx/rewrite/fold-tensor.js';

export function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** numpy broadcasting of concrete shapes (a model error when they do not broadcast). */
export function broadcastShapes(...shapes: (readonly number[])[]): number[] {
  return broadcastWith(shapes, (m) => modelError(m));
}

export function normAxis(axis: number, rank: number, where?: Node): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank)
    throw modelError(
      `axis ${axis} is out of range for rank ${rank}${where ? ` (node ${where.name}, ${where.opType})` : ''}`,
    );
  return a;
}

export function range(n: number, from = 0): number[] {
  return Array.from({ length: Math.max(0, n - from) }, (_, i) => i + from);
}

export interface SliceAxis {
  axis: number;
  /** first element taken (normalized, clamped) */
  start: number;
  step: number;
  /** number of elements taken */
  count: number;
}

/** ONNX Slice bounds (negative indices, clamping, negative steps) resolved against concrete dims. */
export function sliceAxes(
  dims: readonly number[],
  starts: readonly number[],
  ends: readonly number[],
  axes?: readonly number[],
  steps?: readonly number[],
): SliceAxis[] {
  return starts.map((s0, i) => {
    const axis = normAxis(axes?.[i] ?? i, dims.length);
    const dim = dims[axis]!;
    const step = steps?.[i] ?? 1;
    if (step === 0) throw modelError('Slice step 0');
    let s = s0 < 0 ? s0 + dim : s0;
    let e = ends[i]! < 0 ? ends[i]! + dim : ends[i]!;
    let count: number;
    if (step > 0) {
      s = Math.min(Math.max(s, 0), dim);
      e = Math.min(Math.max(e, 0), dim);
      count = e > s ? Math.ceil((e - s) / step) : 0;
    } else {
      s = Math.min(Math.max(s, 0), dim - 1);
      e = Math.min(Math.max(e, -1), dim - 1);
      count = s > e ? Math.ceil((s - e) / -step) : 0;
    }
    return { axis, start: s, step, count };
  });
}

export interface ConvGeometry {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** begin pads then end pads, as the ONNX `pads` attribute */
  pads: number[];
  out: number[];
}

/** Spatial geometry of a Conv or pool over input spatial dims `spatial` (auto_pad resolved to explicit pads). */
export function convGeometry(
  node: Node,
  spatial: readonly number[],
  kernel: readonly number[],
  ceil = false,
): ConvGeometry {
  const n = spatial.length;
  const strides = node.intsAttr('strides') ?? new Array<number>(n).fill(1);
  const dilations = node.intsAttr('dilations') ?? new Array<number>(n).fill(1);
  const autoPad = node.stringAttr('auto_pad', 'NOTSET');
  let pads = node.intsAttr('pads') ?? new Array<number>(2 * n).fill(0);
  if (autoPad === 'VALID') pads = new Array<number>(2 * n).fill(0);
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    pads = new Array<number>(2 * n).fill(0);
    spatial.forEach((x, i) => {
      const out = Math.ceil(x / strides[i]!);
      const total = Math.max(0, (out - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - x);
      const small = Math.floor(total / 2);
      pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      pads[i + n] = total - pads[i]!;
    });
  }
  const round = ceil ? Math.ceil : Math.floor;
  const out = spatial.map(
    (x, i) => round((x + pads[i]! + pads[i + n]! - ((kernel[i]! - 1) * dilations[i]! + 1)) / strides[i]!) + 1,
  );
  return { kernel: [...kernel], strides, dilations, pads, out };
}
