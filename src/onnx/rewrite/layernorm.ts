// Finding LayerNorms, in both forms users bring: one `LayerNormalization` op (opset 17+) or the decomposed
// graph torch 1.13 exports at lower opsets (ReduceMean, Sub, Pow, ReduceMean, Add eps, Sqrt, Div, Mul gamma,
// Add beta; ReduceMean axes as an attribute below opset 18, as an input from 18). RepQ-ViT edits gamma/beta of
// exactly these and re-scales the Linear that consumes the output. Owns detection only (layernorm-rewrite.ts
// fuses and decomposes). Imports the IR, const-value and the pattern matcher.

import type { DType } from '../dtype.js';
import type { Graph, Node } from '../ir.js';
import { toFloat32, toNumbers } from '../tensor.js';
import { constantTensor } from './const-value.js';
import { isSelfContained, matchAll, type InputPattern, type Match, type NodePattern } from './pattern.js';

export interface LayerNorm {
  kind: 'fused' | 'decomposed';
  input: string;
  output: string;
  /**
   * Value names of the affine parameters: an initializer, or a constant (Constant node, Identity of an
   * initializer) until `foldConstants` turns it into one. Undefined for a decomposed LayerNorm without that
   * step (elementwise_affine=False) and for a fused one without bias.
   */
  gamma: string | undefined;
  beta: string | undefined;
  epsilon: number;
  /** First normalized axis, counted from the end (negative) whenever the rank is known or the graph says so. */
  axis: number;
  /** The nodes that compute it, in graph order; the last one produces `output`. */
  nodes: Node[];
}

const keepsDims = (n: Node) => n.intAttr('keepdims', 1) === 1;

function decomposedPatterns(): NodePattern[] {
  const x: InputPattern = { capture: 'x' };
  const mean: NodePattern = { op: 'ReduceMean', inputs: [x], capture: 'mean', where: keepsDims };
  const d: NodePattern = { op: 'Sub', inputs: [x, mean], capture: 'centered' };
  const squares: NodePattern[] = [
    { op: 'Pow', inputs: [d, { const: true, capture: 'exponent' }], capture: 'square' },
    { op: 'Mul', inputs: [d, d], capture: 'square' },
  ];
  const std = (square: NodePattern): NodePattern => ({
    op: 'Sqrt',
    capture: 'sqrt',
    inputs: [
      {
        op: 'Add',
        commutative: true,
        capture: 'addEps',
        inputs: [
          { op: 'ReduceMean', inputs: [square], capture: 'variance', where: keepsDims },
          { const: true, capture: 'epsilon' },
        ],
      },
    ],
  });
  const norms = squares.flatMap((sq): NodePattern[] => [
    { op: 'Div', inputs: [d, std(sq)], capture: 'norm' },
    { op: 'Mul', commutative: true, inputs: [d, { op: 'Reciprocal', inputs: [std(sq)] }], capture: 'norm' },
  ]);
  const scaled = (n: NodePattern): NodePattern => ({
    op: 'Mul',
    commutative: true,
    inputs: [n, { const: true, capture: 'gamma' }],
    capture: 'mulGamma',
  });
  // Longest first: at each root the matcher takes the first alternative that fits.
  return [
    ...norms.map((n) => ({
      op: 'Add',
      commutative: true,
      inputs: [scaled(n), { const: true, capture: 'beta' }],
      capture: 'addBeta',
    })),
    ...norms.map(scaled),
    ...norms,
  ];
}

const PATTERNS = decomposedPatterns();

/** Reduced axes of a ReduceMean (attribute below opset 18, constant input from 18), or undefined. */
function reduceAxes(graph: Graph, node: Node): number[] | undefined {
  const fromAttr = node.intsAttr('axes');
  if (fromAttr !== undefined) return fromAttr;
  const input = node.inputs[1];
  if (input === undefined || input === '') return undefined;
  const t = constantTensor(graph, input);
  return t === undefined || (t.dtype !== 'int64' && t.dtype !== 'int32') ? undefined : toNumbers(t);
}

/** The first axis of a trailing block of axes, as a negative number; undefined if the axes are not trailing. */
export function trailingAxis(axes: readonly number[], rank: number | undefined): number | undefined {
  if (axes.length === 0) return undefined;
  const neg = axes.map((a) => (a < 0 ? a : rank === undefined ? Number.NaN : a - rank));
  if (neg.some((a) => Number.isNaN(a) || (rank !== undefined && a < -rank))) return undefined;
  const sorted = [...new Set(neg)].sort((a, b) => a - b);
  if (sorted.length !== axes.length || sorted.some((a, i) => a !== -sorted.length + i)) return undefined;
  return sorted[0];
}

// Pow's exponent may be an integer tensor; epsilon follows the input's float type.
const SCALAR_TYPES = new Set<DType>(['float32', 'float16', 'bfloat16', 'float64', 'int64', 'int32', 'int16', 'int8']);

function scalar(graph: Graph, value: string | undefined): number | undefined {
  const t = value === undefined ? undefined : constantTensor(graph, value);
  if (t === undefined || !SCALAR_TYPES.has(t.dtype) || t.dims.reduce((a, b) => a * b, 1) !== 1) return undefined;
  return toFloat32(t)[0];
}

function fromDecomposed(graph: Graph, m: Match): LayerNorm | undefined {
  const { mean, variance } = m.nodes;
  const x = m.values.x!;
  if (!isSelfContained(graph, m) || mean === undefined || variance === undefined) return undefined;
  const axes = reduceAxes(graph, mean);
  const axes2 = reduceAxes(graph, variance);
  if (axes === undefined || axes2 === undefined || axes.join() !== axes2.join()) return undefined;
  const axis = trailingAxis(axes, graph.typeOf(x)?.shape?.length);
  const epsilon = scalar(graph, m.values.epsilon);
  if (axis === undefined || epsilon === undefined || epsilon < 0) return undefined;
  if (m.values.exponent !== undefined && scalar(graph, m.values.exponent) !== 2) return undefined;
  return {
    kind: 'decomposed',
    input: x,
    output: m.root.outputs[0]!,
    gamma: m.values.gamma,
    beta: m.values.beta,
    epsilon,
    axis,
    nodes: m.matched,
  };
}

function fromFused(graph: Graph, node: Node): LayerNorm | undefined {
  const [input, gamma, beta] = node.inputs;
  const output = node.outputs[0];
  if (input === undefined || gamma === undefined || output === undefined || output === '') return undefined;
  const axis = node.intAttr('axis', -1);
  const rank = graph.typeOf(input)?.shape?.length;
  return {
    kind: 'fused',
    input,
    output,
    gamma,
    beta: beta === '' ? undefined : beta,
    // float32 in the proto; rounded here too for graphs built in code, so both forms report the same value
    epsilon: Math.fround(node.floatAttr('epsilon', 1e-5)),
    axis: axis >= 0 && rank !== undefined ? axis - rank : axis,
    nodes: [node],
  };
}

/** Every LayerNorm of the graph (either form), in graph order of their outputs. */
export function findLayerNorms(graph: Graph): LayerNorm[] {
  const found: LayerNorm[] = [];
  for (const n of graph.nodes) {
    if (n.opType !== 'LayerNormalization' || (n.domain !== '' && n.domain !== 'ai.onnx')) continue;
    const ln = fromFused(graph, n);
    if (ln !== undefined) found.push(ln);
  }
  const accept = (m: Match, g: Graph) => fromDecomposed(g, m) !== undefined;
  for (const m of matchAll(graph, PATTERNS, { accept })) found.push(fromDecomposed(graph, m)!);
  const position = new Map(graph.nodes.map((n, i) => [n, i]));
  return found.sort((a, b) => position.get(a.nodes.at(-1)!)! - position.get(b.nodes.at(-1)!)!);
}
