// Where to look in a graph: the quantizable tensors (what planQuantization would mark: inputs of MatMul, Gemm
// and Conv, both operands of activation-activation MatMuls, plus weights), LayerNorm outputs, Softmax outputs
// and Q-Diffusion's shortcut Concats (a channel Concat feeding a Conv). Found by graph structure, never by node
// names. Imports the IR, the LayerNorm finder and plan.ts's input helpers.

import type { Graph, Node } from '../onnx/ir.js';
import { findLayerNorms, type LayerNorm } from '../onnx/rewrite/layernorm.js';
import { activationInputs, initializerBehind, weightInput } from '../quant/plan.js';
import { QUANTIZED_OPS } from '../quant/recipe.js';
import type { TensorUseInfo } from './types.js';

export interface QuantizableTensor {
  tensor: string;
  role: 'weight' | 'activation';
  uses: TensorUseInfo[];
}

const isDefaultDomain = (n: Node) => n.domain === '' || n.domain === 'ai.onnx';

/** Every quantizable tensor once, in graph order of first use; weights are named by their initializer. */
export function quantizableTensors(g: Graph): QuantizableTensor[] {
  const found = new Map<string, QuantizableTensor>();
  const add = (tensor: string, role: QuantizableTensor['role'], use: TensorUseInfo) => {
    const key = `${role}:${tensor}`;
    const t = found.get(key);
    if (t === undefined) found.set(key, { tensor, role, uses: [use] });
    else t.uses.push(use);
  };
  for (const node of g.nodes) {
    if (!isDefaultDomain(node) || !QUANTIZED_OPS.includes(node.opType)) continue;
    const w = weightInput(g, node);
    const wTensor = w === undefined ? undefined : initializerBehind(g, node.inputs[w.input] ?? '');
    if (w !== undefined && wTensor !== undefined)
      add(wTensor, 'weight', { node: node.name, opType: node.opType, input: w.input });
    for (const i of activationInputs(g, node)) {
      const v = node.inputs[i];
      if (v === undefined || v === '') continue;
      const type = g.typeOf(v);
      if (type !== undefined && type.dtype !== 'float32') continue;
      add(v, 'activation', { node: node.name, opType: node.opType, input: i });
    }
  }
  return [...found.values()];
}

export interface SoftmaxSite {
  node: string;
  output: string;
}

export function softmaxSites(g: Graph): SoftmaxSite[] {
  return g.nodes
    .filter((n) => n.opType === 'Softmax' && isDefaultDomain(n) && (n.outputs[0] ?? '') !== '')
    .map((n) => ({ node: n.name, output: n.outputs[0]! }));
}

export interface LayerNormSite {
  ln: LayerNorm;
  node: string;
  consumers: string[];
}

export function layerNormSites(g: Graph): LayerNormSite[] {
  return findLayerNorms(g).map((ln) => ({
    ln,
    node: ln.nodes.at(-1)!.name,
    consumers: g
      .consumersOf(ln.output)
      .filter((c) => QUANTIZED_OPS.includes(c.opType))
      .map((c) => c.name),
  }));
}

export interface ShortcutSite {
  conv: string;
  concat: string;
  /** the Concat's inputs in order (the two halves in a UNet decoder) */
  parts: string[];
}

function isConstant(g: Graph, v: string): boolean {
  if (g.initializers.has(v)) return true;
  const p = g.producerOf(v);
  return p !== undefined && (p.opType === 'Constant' || (p.opType === 'Identity' && g.initializers.has(p.inputs[0]!)));
}

/** Convs whose data input is a channel Concat (axis 1, or its negative form) of at least two activations. */
export function shortcutSites(g: Graph): ShortcutSite[] {
  const sites: ShortcutSite[] = [];
  for (const conv of g.nodes) {
    if (conv.opType !== 'Conv' || !isDefaultDomain(conv)) continue;
    const cat = g.producerOf(conv.inputs[0] ?? '');
    if (cat === undefined || cat.opType !== 'Concat') continue;
    // Conv input and weight have the same rank, and the weight's is known, so a negative axis resolves.
    const axis = cat.intAttr('axis', 0);
    const rank = g.typeOf(conv.inputs[1] ?? '')?.shape?.length;
    if (axis !== 1 && (rank === undefined || axis + rank !== 1)) continue;
    const parts = cat.inputs.filter((v) => v !== '' && !isConstant(g, v));
    if (parts.length < 2 || parts.length !== cat.inputs.length) continue;
    sites.push({ conv: conv.name, concat: cat.name, parts: [...cat.inputs] });
  }
  return sites;
}
