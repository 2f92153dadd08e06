// Marking what to quantize (like ONNX Runtime's quantizer: rules mark, one pass materializes). The result is a
// QuantPlan: plain annotations on tensors of the graph (like PPQ), filled with parameters by calibration and turned
// into nodes only by the fake-quant pass or the QDQ export.

import type { Graph, Model, Node } from '../onnx/ir.js';
import { defaultOpset } from '../onnx/ir.js';
import { Namer } from '../onnx/naming.js';
import { modelError, unsupportedError } from '../errors.js';
import type { QuantParams } from './qparams.js';
import { nodeBits, type ObserverName, type Recipe } from './recipe.js';

export interface TensorUse {
  node: string;
  input: number;
}

export interface QuantTarget {
  /** unique key of this quantizer (the tensor name, suffixed when one tensor has several quantizers) */
  key: string;
  /** the value quantized */
  tensor: string;
  role: 'weight' | 'activation';
  bits: number;
  observer: ObserverName;
  symmetric: boolean;
  /** per-channel axis, or null for per tensor */
  axis: number | null;
  /** the uses that read the quantized value (others keep reading the float tensor) */
  uses: TensorUse[];
  /** method-specific marks, e.g. 'post-layernorm', 'post-softmax', 'attention' */
  tags: string[];
  params?: QuantParams;
}

export interface QuantPlan {
  /** the recipe the plan was made from (recorded in the sidecar) */
  recipe: Recipe;
  targets: QuantTarget[];
}

export const MIN_QUANT_OPSET = 13;
export const MAX_QUANT_OPSET = 21;

export function checkQuantOpset(model: Model): void {
  const opset = defaultOpset(model);
  if (opset < MIN_QUANT_OPSET || opset > MAX_QUANT_OPSET)
    throw unsupportedError(
      `quantization supports opsets ${MIN_QUANT_OPSET} to ${MAX_QUANT_OPSET}; this model is opset ${opset}`,
      'export the model again with torch.onnx.export(..., opset_version=17)',
    );
}

/** The initializer behind a value, looking through Identity (torch de-duplicates equal weights into Identity). */
export function initializerBehind(g: Graph, value: string): string | undefined {
  let v = value;
  for (let i = 0; i < 4; i++) {
    if (g.initializers.has(v)) return v;
    const p = g.producerOf(v);
    if (p?.opType !== 'Identity') return undefined;
    v = p.inputs[0]!;
  }
  return undefined;
}

/** Which input of a quantized op is its weight, and the weight's output-channel axis. */
export function weightInput(g: Graph, node: Node): { input: number; axis: number } | undefined {
  switch (node.opType) {
    case 'Conv':
      return { input: 1, axis: 0 };
    case 'ConvTranspose':
      return { input: 1, axis: 1 };
    case 'Gemm':
      return { input: 1, axis: node.intAttr('transB', 0) === 1 ? 0 : 1 };
    case 'MatMul': {
      const w = node.inputs[1];
      if (w === undefined || initializerBehind(g, w) === undefined) return undefined;
      const rank = g.typeOf(initializerBehind(g, w)!)?.shape?.length ?? 2;
      return { input: 1, axis: rank - 1 };
    }
    default:
      return undefined;
  }
}

/** Activation inputs of a quantized op: data inputs that are not weights or biases. */
export function activationInputs(g: Graph, node: Node): number[] {
  switch (node.opType) {
    case 'Conv':
    case 'ConvTranspose':
    case 'Gemm':
      return initializerBehind(g, node.inputs[0]!) === undefined ? [0] : [];
    case 'MatMul':
      return [0, 1].filter((i) => node.inputs[i] !== undefined && initializerBehind(g, node.inputs[i]!) === undefined);
    default:
      return [0];
  }
}

/** Inputs (first required, then optional) of the ops with a weight; the passes index them without checking. */
const INPUT_COUNTS: Record<string, [number, number]> = {
  MatMul: [2, 2],
  Gemm: [2, 3],
  Conv: [2, 3],
  ConvTranspose: [2, 3],
};

function checkInputs(node: Node): void {
  const [lo, hi] = INPUT_COUNTS[node.opType] ?? [1, Infinity];
  const n = node.inputs.length;
  if (n < lo || n > hi || node.inputs.slice(0, lo).includes(''))
    throw modelError(
      `node ${node.name} (${node.opType}) has ${n} inputs${n >= lo && n <= hi ? ' with a required one empty' : ''}, needs ${lo === hi ? lo : hi === Infinity ? `at least ${lo}` : `${lo} to ${hi}`}`,
    );
}

/**
 * Uses name their node, and the passes find nodes by name; ONNX allows empty and repeated node names, which would
 * send one node's quantized input to another. Such nodes get unique names (deterministic, from naming.ts).
 */
export function ensureUniqueNodeNames(g: Graph): void {
  const seen = new Set<string>();
  let namer: Namer | undefined;
  for (const node of g.nodes) {
    if (node.name === '' || seen.has(node.name)) {
      namer ??= new Namer(g);
      node.name = namer.fresh(node.name === '' ? node.opType || 'node' : node.name);
    }
    seen.add(node.name);
  }
}

/**
 * Mark every weight and activation input of the recipe's ops. Deterministic: graph order, then input order.
 * Renames unnamed or duplicate-named nodes of `model` (see ensureUniqueNodeNames).
 */
export function planQuantization(model: Model, recipe: Recipe): QuantPlan {
  checkQuantOpset(model);
  const g = model.graph;
  g.topoSort();
  ensureUniqueNodeNames(g);
  const targets = new Map<string, QuantTarget>();
  const add = (t: Omit<QuantTarget, 'key' | 'uses'>, use: TensorUse) => {
    const key =
      t.bits === (t.role === 'weight' ? recipe.weights.bits : recipe.activations.bits)
        ? t.tensor
        : `${t.tensor}@${t.bits}b`;
    const existing = targets.get(key);
    if (existing !== undefined) {
      existing.uses.push(use);
      return;
    }
    targets.set(key, { ...t, key, uses: [use] });
  };
  for (const node of g.nodes) {
    if (!recipe.ops.includes(node.opType)) continue;
    checkInputs(node);
    const { wBits, aBits } = nodeBits(recipe, node.name, node.opType);
    const w = weightInput(g, node);
    if (w !== undefined && wBits < 32) {
      const tensor = initializerBehind(g, node.inputs[w.input]!);
      const rank = tensor === undefined ? 0 : g.initializers.get(tensor)!.dims.length;
      // An invalid model (a Gemm weight of rank 0, say) would otherwise fail deep in a quantizer with an axis error.
      if (tensor !== undefined && (w.axis < 0 || w.axis >= rank))
        throw modelError(
          `node ${node.name} (${node.opType}): weight ${tensor} has rank ${rank}, too low for its output-channel axis ${w.axis}`,
        );
      if (tensor !== undefined)
        add(
          {
            tensor,
            role: 'weight',
            bits: wBits,
            observer: recipe.weights.observer,
            symmetric: recipe.weights.symmetric,
            axis: recipe.weights.perChannel ? w.axis : null,
            tags: [],
          },
          { node: node.name, input: w.input },
        );
    }
    if (aBits >= 32) continue;
    const actInputs = activationInputs(g, node);
    for (const i of actInputs) {
      const tensor = node.inputs[i]!;
      const type = g.typeOf(tensor);
      if (type !== undefined && type.dtype !== 'float32') continue;
      add(
        {
          tensor,
          role: 'activation',
          bits: aBits,
          observer: recipe.activations.observer,
          symmetric: recipe.activations.symmetric,
          axis: null,
          tags: node.opType === 'MatMul' && actInputs.length === 2 ? ['attention'] : [],
        },
        { node: node.name, input: i },
      );
    }
  }
  return { recipe, targets: [...targets.values()] };
}
