// Concrete shape inference for a graph whose inputs have concrete dims: every value gets a dtype and dims, and the
// small integer tensors of shape arithmetic (Shape -> Gather -> Concat -> Reshape) get their values, computed with
// the constant folder's kernels. Gradient rules then work with plain numbers instead of emitting runtime shape
// arithmetic. Imports the IR, the folder's kernels and shape-rules; not the runtime.

import type { Graph, Node, Tensor } from '../onnx/ir.js';
import { elementCount } from '../onnx/tensor.js';
import { constantNodeTensor } from '../onnx/rewrite/const-value.js';
import { KERNELS } from '../onnx/rewrite/fold-ops.js';
import { Unfoldable, fromTensor, toTensor } from '../onnx/rewrite/fold-tensor.js';
import { isQuantlensError } from '../errors.js';
import { SHAPE_RULES, Unknown, type Ins, type Known } from './shape-rules.js';

export type { Known } from './shape-rules.js';
export type ShapeMap = Map<string, Known>;

const SMALL_INT = 4096;
const SMALL_FLOAT = 8;

function keepValue(k: { dtype: string; dims: readonly number[] }): boolean {
  const n = elementCount(k.dims);
  if (k.dtype === 'int64' || k.dtype === 'int32' || k.dtype === 'bool') return n <= SMALL_INT;
  return (k.dtype === 'float32' || k.dtype === 'float64') && n <= SMALL_FLOAT;
}

export function knownOfTensor(t: Tensor): Known {
  const k: Known = { dtype: t.dtype, dims: [...t.dims] };
  if (keepValue(t)) {
    const v = fromTensor(t);
    if (v !== undefined) k.value = v;
  }
  return k;
}

function lookup(graph: Graph, known: ShapeMap, name: string): Known | undefined {
  const k = known.get(name);
  if (k !== undefined) return k;
  const t = graph.initializers.get(name);
  if (t === undefined) return undefined;
  const made = knownOfTensor(t);
  known.set(name, made);
  return made;
}

function evaluate(node: Node, ins: Ins): Known | undefined {
  const kernel = KERNELS[node.opType];
  if (kernel === undefined || node.outputs.length !== 1) return undefined;
  if (node.inputs.some((n, i) => n !== '' && ins[i]?.value === undefined)) return undefined;
  try {
    const out = kernel(
      node,
      ins.map((k) => k?.value),
      { maxElements: SMALL_INT },
    );
    return keepValue(out) ? { dtype: out.dtype, dims: out.dims, value: out } : undefined;
  } catch (e) {
    if (e instanceof Unfoldable || e instanceof RangeError) return undefined;
    throw e;
  }
}

function inferNode(node: Node, ins: Ins, opset: number): Known[] {
  if (node.domain !== '' && node.domain !== 'ai.onnx') return [];
  if (node.opType === 'Constant') {
    const t = constantNodeTensor(node);
    return t === undefined ? [] : [knownOfTensor(t)];
  }
  if (node.opType === 'Shape' || node.opType === 'Size') {
    const x = ins[0];
    if (x === undefined) return [];
    const r = x.dims.length;
    const bound = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
    const dims = x.dims.slice(bound(node.intAttr('start', 0)), bound(node.intAttr('end', r)));
    const values = node.opType === 'Shape' ? dims : [elementCount(x.dims)];
    const shape = node.opType === 'Shape' ? [values.length] : [];
    return [
      { dtype: 'int64', dims: shape, value: { dtype: 'int64', dims: shape, data: BigInt64Array.from(values, BigInt) } },
    ];
  }
  const value = evaluate(node, ins);
  if (value !== undefined) return [value];
  const rule = SHAPE_RULES[node.opType];
  return rule === undefined ? [] : rule(node, ins, opset);
}

/**
 * Infers the outputs of `nodes` (in order) into `known`. Graph inputs must already be in `known`; initializers are
 * read on demand. A node whose output types cannot be known leaves them out (rules that need them then fail).
 */
export function inferShapes(graph: Graph, nodes: readonly Node[], known: ShapeMap, opset: number): void {
  for (const node of nodes) {
    const ins = node.inputs.map((n) => (n === '' ? undefined : lookup(graph, known, n)));
    let outs: Known[];
    try {
      outs = inferNode(node, ins, opset);
    } catch (e) {
      if (e instanceof Unknown || e instanceof Unfoldable || isQuantlensError(e)) continue;
      throw e;
    }
    outs.forEach((k, i) => {
      const name = node.outputs[i];
      if (name !== undefined && name !== '') known.set(name, k);
    });
  }
}

/**
 * Replaces every node whose outputs all have known values (shape arithmetic) by initializers, except nodes that
 * produce a graph output or a value in `keep`. Returns the number of nodes removed.
 */
export function foldKnownValues(graph: Graph, known: ShapeMap, keep: ReadonlySet<string>): number {
  const folded = new Set<Node>();
  for (const node of graph.nodes) {
    const outs = node.outputs.filter((o) => o !== '');
    if (outs.length === 0 || outs.some((o) => keep.has(o) || graph.isGraphOutput(o))) continue;
    if (outs.every((o) => known.get(o)?.value !== undefined)) folded.add(node);
  }
  graph.removeNodes(folded);
  for (const node of folded)
    for (const o of node.outputs) if (o !== '') graph.initializers.set(o, toTensor(o, known.get(o)!.value!));
  return folded.size;
}
