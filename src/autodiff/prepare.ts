// The forward half of a gradient graph: a copy of the model with concrete input shapes, the parameters to
// differentiate turned into graph inputs, optionally cut at given entry values (a block), the loss built in-graph,
// everything the loss does not need removed and shape arithmetic folded. Gradient checking runs this same forward
// graph. Imports onnx/ (IR, clone, builder, DCE) and the shape inference; not the runtime.

import { GraphBuilder, makeModel } from '../onnx/builder.js';
import { cloneGraph, cloneModel } from '../onnx/clone.js';
import { Graph, defaultOpset, isTensorType, type Model, type Tensor } from '../onnx/ir.js';
import { elementCount } from '../onnx/tensor.js';
import { names } from '../onnx/naming.js';
import { eliminateDeadCode } from '../onnx/rewrite/dce.js';
import { unsupportedError, usageError } from '../errors.js';
import { Emitter } from './emitter.js';
import { addLoss, type LossTerm } from './loss.js';
import { foldKnownValues, inferShapes, type ShapeMap } from './shapes.js';

export interface GradientOptions {
  /** a scalar value of the graph, or loss terms to build in-graph (see loss.ts) */
  loss: string | readonly LossTerm[];
  /** initializers, graph inputs or intermediate values to differentiate with respect to */
  wrt: readonly string[];
  /** values that become graph inputs, cutting off what computes them (a block's entry values) */
  inputs?: readonly string[];
  /** values of symbolic input dims, e.g. { batch: 32 }: the gradient graph has concrete shapes */
  dims?: Readonly<Record<string, number>>;
  /** concrete shapes of graph inputs (instead of their declared shapes) */
  shapes?: Readonly<Record<string, readonly number[]>>;
  /** keep the wrt initializers as initializers instead of making them graph inputs (default false) */
  keepInitializers?: boolean;
  /** forward values to output too (e.g. the block output) */
  outputs?: readonly string[];
  /** default-domain opset when a bare Graph is given (default 17) */
  opset?: number;
  /**
   * 'float64': compute the loss terms in float64 (float32 values are cast; the backward casts back). Gradient
   * checks use it so that their central differences are not limited by the rounding of a float32 loss.
   */
  lossPrecision?: 'float64';
}

export interface Forward {
  model: Model;
  known: ShapeMap;
  opset: number;
  loss: string;
  targets: Record<string, string>;
  /** the initial values of the wrt initializers, which are now graph inputs */
  parameters: Map<string, Tensor>;
}

function concreteInputs(g: Graph, opts: GradientOptions, known: ShapeMap): void {
  for (const input of g.inputs) {
    if (!isTensorType(input.type)) throw usageError(`graph input ${input.name} is not a tensor`);
    const given = opts.shapes?.[input.name];
    const declared = input.type.shape;
    if (given === undefined && declared === undefined)
      throw usageError(`graph input ${input.name} has no shape`, `give it one with shapes: { '${input.name}': [...] }`);
    const dims = (given ?? declared!).map((d) => {
      if (typeof d === 'number' && d >= 0) return d;
      const v = typeof d === 'string' ? opts.dims?.[d] : undefined;
      if (v === undefined)
        throw usageError(
          `graph input ${input.name} has the symbolic dim ${d ?? '?'}`,
          typeof d === 'string'
            ? `give its size with dims: { ${d}: N }`
            : `give its shape with shapes: { '${input.name}': [...] }`,
        );
      return v;
    });
    input.type = { dtype: input.type.dtype, shape: dims };
    known.set(input.name, { dtype: input.type.dtype, dims });
  }
}

function exists(g: Graph, v: string): boolean {
  return g.isGraphInput(v) || g.initializers.has(v) || g.producerOf(v) !== undefined;
}

export function prepareForward(source: Model | Graph, opts: GradientOptions): Forward {
  const model = source instanceof Graph ? makeModel(cloneGraph(source), opts.opset ?? 17) : cloneModel(source);
  const opset = defaultOpset(model);
  if (opset < 13) throw unsupportedError(`opset ${opset}: gradient graphs need opset 13 or later`);
  const g = model.graph;
  g.topoSort();
  const wrt = [...new Set(opts.wrt)];
  const named = [
    ...wrt,
    ...(opts.inputs ?? []),
    ...(opts.outputs ?? []),
    ...(typeof opts.loss === 'string' ? [opts.loss] : []),
  ];
  for (const v of named) if (!exists(g, v)) throw usageError(`no value named ${v} in the graph`);
  // Old exports list initializers as inputs too; here they are plain constants unless differentiated.
  g.inputs = g.inputs.filter((i) => !g.initializers.has(i.name) || wrt.includes(i.name));
  const parameters = new Map<string, Tensor>();
  for (const w of wrt) {
    const t = g.initializers.get(w);
    if (t === undefined) continue;
    parameters.set(w, t);
    g.initializers.delete(w);
    if (!g.isGraphInput(w)) g.inputs.push({ name: w, type: { dtype: t.dtype, shape: [...t.dims] } });
  }
  const known: ShapeMap = new Map();
  concreteInputs(g, opts, known);
  inferShapes(g, g.nodes, known, opset);
  const b = new GraphBuilder(g);
  for (const v of opts.inputs ?? []) {
    if (g.isGraphInput(v)) continue;
    const k = known.get(v);
    if (k === undefined) throw usageError(`the shape of ${v} is unknown, so it cannot become an input`);
    const p = g.producerOf(v);
    if (p !== undefined) {
      const cut = b.namer.fresh(names.cut(v));
      g.setNodeOutput(p, p.outputs.indexOf(v), cut);
      known.set(cut, k);
    } else g.initializers.delete(v);
    g.inputs.push({ name: v, type: { dtype: k.dtype, shape: [...k.dims] } });
  }
  let loss = typeof opts.loss === 'string' ? opts.loss : '';
  let targets: Record<string, string> = {};
  if (typeof opts.loss !== 'string') {
    const before = new Set(g.nodes);
    ({ loss, targets } = addLoss(new Emitter(b, known, opset), opts.loss, opts.lossPrecision === 'float64'));
    inferShapes(
      g,
      g.nodes.filter((n) => !before.has(n)),
      known,
      opset,
    );
  }
  const lossType = known.get(loss);
  if (lossType === undefined || elementCount(lossType.dims) !== 1)
    throw usageError(`the loss ${loss} must be a scalar`, 'build one with loss terms: [{ mse: value }]');
  const outs = [loss, ...(opts.outputs ?? []).filter((o) => o !== loss)];
  g.outputs = outs.map((name) => ({
    name,
    type: { dtype: known.get(name)?.dtype ?? 'float32', shape: known.get(name)?.dims },
  }));
  eliminateDeadCode(g);
  const used = new Set(g.nodes.flatMap((n) => n.inputs));
  g.inputs = g.inputs.filter((i) => used.has(i.name) || wrt.includes(i.name) || g.isGraphOutput(i.name));
  foldKnownValues(g, known, new Set(wrt));
  g.topoSort();
  return { model, known, opset, loss, targets, parameters };
}
