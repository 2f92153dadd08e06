// What gradient rules and decompositions write graphs with: ops named after the node being differentiated,
// typed constants (deduplicated), and opset-aware forms of the ops whose axes moved from attributes to inputs.
// Every shape a rule needs is concrete (shapes.ts). Imports the IR, builder and naming; not the runtime.

import { GraphBuilder, type AttrValue } from '../onnx/builder.js';
import type { Attribute, Node } from '../onnx/ir.js';
import type { DType } from '../onnx/dtype.js';
import { makeTensor } from '../onnx/tensor.js';
import { names } from '../onnx/naming.js';
import { ints as arrInts } from '../onnx/rewrite/fold-tensor.js';
import { modelError, unsupportedError } from '../errors.js';
import type { ShapeMap } from './shapes.js';

export type GradDType = 'float32' | 'float64';

export function floatAttr(value: number): Attribute {
  return { type: 'float', value };
}

export class Emitter {
  /** base of the names of the nodes emitted next (the node being differentiated) */
  private base = 'grad';
  private readonly consts = new Map<string, string>();

  constructor(
    readonly builder: GraphBuilder,
    readonly known: ShapeMap,
    readonly opset: number,
  ) {}

  get graph() {
    return this.builder.graph;
  }

  /** Name what follows after `node` (its gradient or its decomposition), or after a plain base name. */
  at(node: Node | string, what: 'grad' | 'decomposed' = 'grad'): void {
    this.base = typeof node === 'string' ? node : names.node(node.name, what);
  }

  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputName?: string): string {
    const opts = outputName === undefined ? {} : { outputNames: [outputName] };
    return this.builder.op(opType, inputs, attrs, { name: `${this.base}/${opType}`, ...opts });
  }

  shape(value: string): number[] {
    const k = this.known.get(value);
    if (k === undefined) {
      const p = this.graph.producerOf(value);
      throw modelError(
        `the shape of ${value}${p ? ` (output of node ${p.name}, ${p.opType})` : ''} is unknown`,
        'give every graph input a concrete shape (options dims/shapes)',
      );
    }
    return k.dims;
  }

  dtype(value: string): GradDType {
    const d: DType | undefined = this.known.get(value)?.dtype ?? this.graph.typeOf(value)?.dtype;
    if (d !== 'float32' && d !== 'float64')
      throw unsupportedError(`gradients of ${value} (${d ?? 'unknown type'}) are not supported`);
    return d;
  }

  /** The constant integer values of `value` (axes, starts, indices), or undefined when they are not constant. */
  constInts(value: string): number[] | undefined {
    const v = this.known.get(value)?.value;
    return v === undefined || (v.dtype !== 'int64' && v.dtype !== 'int32') ? undefined : arrInts(v);
  }

  private cached(key: string, make: (name: string) => Parameters<typeof makeTensor>): string {
    const hit = this.consts.get(key);
    if (hit !== undefined) return hit;
    const name = this.builder.namer.fresh(names.gradientConstant());
    this.graph.initializers.set(name, makeTensor(...make(name)));
    this.consts.set(key, name);
    return name;
  }

  /** A scalar constant of a float dtype. */
  scalar(value: number, dtype: GradDType): string {
    const Arr = dtype === 'float64' ? Float64Array : Float32Array;
    return this.cached(`${dtype}:${value}`, (n) => [n, Arr.of(value), []]);
  }

  /** A float constant tensor (one-hot matrices and the like). */
  tensor(values: ArrayLike<number>, dims: number[], dtype: GradDType): string {
    const Arr = dtype === 'float64' ? Float64Array : Float32Array;
    const name = this.builder.namer.fresh(names.gradientConstant());
    this.graph.initializers.set(name, makeTensor(name, Arr.from(values), dims));
    return name;
  }

  /** A 1-D int64 constant (shapes, axes, pads). */
  ints(values: readonly number[]): string {
    return this.cached(`i64:${values.join(',')}`, (n) => [n, BigInt64Array.from(values, BigInt), [values.length]]);
  }

  reshape(x: string, dims: readonly number[]): string {
    return this.op('Reshape', [x, this.ints(dims)]);
  }

  transpose(x: string, perm: readonly number[]): string {
    return this.op('Transpose', [x], { perm: [...perm] });
  }

  reduce(op: 'ReduceSum' | 'ReduceMean', x: string, axes: readonly number[], keepdims: boolean): string {
    const fromInput = op === 'ReduceSum' ? 13 : 18;
    if (this.opset >= fromInput) return this.op(op, [x, this.ints(axes)], { keepdims: keepdims ? 1 : 0 });
    return this.op(op, [x], { axes: [...axes], keepdims: keepdims ? 1 : 0 });
  }

  unsqueeze(x: string, axes: readonly number[]): string {
    return this.opset >= 13
      ? this.op('Unsqueeze', [x, this.ints(axes)])
      : this.op('Unsqueeze', [x], { axes: [...axes] });
  }

  /** Pad with zeros; negative pads crop. */
  pad(x: string, pads: readonly number[]): string {
    return pads.every((p) => p === 0) ? x : this.op('Pad', [x, this.ints(pads)], { mode: 'constant' });
  }

  zeros(dims: readonly number[], dtype: GradDType): string {
    const Arr = dtype === 'float64' ? Float64Array : Float32Array;
    return this.op('ConstantOfShape', [this.ints(dims)], { value: makeTensor('value', Arr.of(0), [1]) });
  }

  mul(a: string, b: string): string {
    return this.op('Mul', [a, b]);
  }

  /** `grad` where `mask` holds, zero elsewhere. */
  where(mask: string, grad: string, dtype: GradDType): string {
    return this.op('Where', [mask, grad, this.scalar(0, dtype)]);
  }
}
