// A small declarative pattern matcher over the IR. A pattern is a tree of node patterns rooted at the node
// that produces the match's output; leaves match values. Repeating a capture name turns the tree into a DAG:
// every occurrence must bind the same node (or value), which is how `Sub(x, ReduceMean(x))` says "the same x".
// Owns matching only; rewrites are done by the callers. Imports the IR and const-value.

import type { Graph, Node } from '../ir.js';
import { isConstantValue } from './const-value.js';

export interface NodePattern {
  /** One op type or alternatives (default domain unless `domain` says otherwise). */
  op: string | readonly string[];
  domain?: string;
  /**
   * Patterns for a prefix of the node's inputs: inputs past the end are unconstrained (so ReduceMean matches
   * with its axes as attribute or as a second input); use `where` to constrain the arity.
   */
  inputs?: readonly InputPattern[];
  /** Name under which the matched node is returned. */
  capture?: string;
  where?: (node: Node, graph: Graph) => boolean;
  /** Each output feeds exactly one node and is not a graph output. */
  singleConsumer?: boolean;
  /** For two-input ops (Add, Mul, ...): also try the inputs swapped. */
  commutative?: boolean;
  /** Which output of the node the consuming input must be (default 0). */
  outputIndex?: number;
}

/** A value leaf: anything, a named value, or a constant (fixed initializer or Constant output, see const-value). */
export type ValuePattern = 'any' | { capture: string; const?: boolean } | { const: true; capture?: string };

export type InputPattern = NodePattern | ValuePattern;

export interface Match {
  /** The node the pattern's root matched: the producer of the match's output. */
  root: Node;
  /** Captured nodes by capture name. */
  nodes: Record<string, Node>;
  /** Captured values by capture name. */
  values: Record<string, string>;
  /** Every node the pattern matched, in graph order. */
  matched: Node[];
}

export interface MatchOptions {
  /** A last check on a whole match (interior outputs used elsewhere, attribute agreement, ...). */
  accept?: (match: Match, graph: Graph) => boolean;
}

// Bindings are copied on write so that a failed branch of a commutative match leaves nothing behind.
interface Bindings {
  nodes: Map<string, Node>;
  values: Map<string, string>;
  matched: Set<Node>;
}

function isNodePattern(p: InputPattern): p is NodePattern {
  return typeof p === 'object' && 'op' in p;
}

function opMatches(p: NodePattern, node: Node): boolean {
  if (node.domain !== (p.domain ?? '') && !(node.domain === 'ai.onnx' && (p.domain ?? '') === '')) return false;
  return typeof p.op === 'string' ? node.opType === p.op : p.op.includes(node.opType);
}

function hasSingleConsumer(graph: Graph, node: Node): boolean {
  return node.outputs.every((o) => o === '' || (!graph.isGraphOutput(o) && graph.consumersOf(o).length === 1));
}

function matchValue(graph: Graph, p: InputPattern, value: string, b: Bindings): Bindings | undefined {
  if (isNodePattern(p)) {
    const producer = graph.producerOf(value);
    if (producer === undefined || producer.outputs[p.outputIndex ?? 0] !== value) return undefined;
    return matchNode(graph, p, producer, b);
  }
  if (p === 'any') return b;
  if (p.const === true && !isConstantValue(graph, value)) return undefined;
  if (p.capture === undefined) return b;
  const bound = b.values.get(p.capture);
  if (bound !== undefined) return bound === value ? b : undefined;
  return { ...b, values: new Map(b.values).set(p.capture, value) };
}

function matchInputs(
  graph: Graph,
  patterns: readonly InputPattern[],
  inputs: readonly string[],
  b: Bindings,
): Bindings | undefined {
  let cur: Bindings | undefined = b;
  for (let i = 0; i < patterns.length && cur !== undefined; i++) {
    const value = inputs[i];
    if (value === undefined || value === '') return undefined;
    cur = matchValue(graph, patterns[i]!, value, cur);
  }
  return cur;
}

function matchNode(graph: Graph, p: NodePattern, node: Node, b: Bindings): Bindings | undefined {
  if (!opMatches(p, node)) return undefined;
  if (p.capture !== undefined) {
    const bound = b.nodes.get(p.capture);
    // A repeated capture is a back-reference: the node was matched (with its inputs) the first time.
    if (bound !== undefined) return bound === node ? b : undefined;
  }
  if (p.singleConsumer === true && !hasSingleConsumer(graph, node)) return undefined;
  if (p.where !== undefined && !p.where(node, graph)) return undefined;
  let next: Bindings = { ...b, matched: new Set(b.matched).add(node) };
  if (p.capture !== undefined) next = { ...next, nodes: new Map(next.nodes).set(p.capture, node) };
  const inputs = p.inputs ?? [];
  const straight = matchInputs(graph, inputs, node.inputs, next);
  if (straight !== undefined || p.commutative !== true || inputs.length !== 2) return straight;
  const [a, c] = node.inputs;
  return a === undefined || c === undefined ? undefined : matchInputs(graph, inputs, [c, a], next);
}

function toMatch(graph: Graph, root: Node, b: Bindings): Match {
  return {
    root,
    nodes: Object.fromEntries(b.nodes),
    values: Object.fromEntries(b.values),
    matched: graph.nodes.filter((n) => b.matched.has(n)),
  };
}

/** Match `pattern` with its root at `node`. */
export function matchAt(graph: Graph, pattern: NodePattern, node: Node, opts: MatchOptions = {}): Match | undefined {
  const b = matchNode(graph, pattern, node, { nodes: new Map(), values: new Map(), matched: new Set() });
  if (b === undefined) return undefined;
  const m = toMatch(graph, node, b);
  return opts.accept === undefined || opts.accept(m, graph) ? m : undefined;
}

/**
 * All non-overlapping matches of one pattern or of alternatives (tried in the order given at each node).
 * Roots are visited from the end of the graph backwards, so the match anchored nearest the outputs wins: a
 * LayerNorm with its affine Mul/Add is claimed before a shorter pattern could claim its Div. Returned in
 * graph order of their roots.
 */
export function matchAll(
  graph: Graph,
  pattern: NodePattern | readonly NodePattern[],
  opts: MatchOptions = {},
): Match[] {
  const patterns: readonly NodePattern[] = Array.isArray(pattern) ? pattern : [pattern as NodePattern];
  const claimed = new Set<Node>();
  const found: Match[] = [];
  const nodes = graph.nodes;
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = nodes[i]!;
    if (claimed.has(node)) continue;
    for (const p of patterns) {
      const m = matchAt(graph, p, node, opts);
      if (m === undefined || m.matched.some((n) => claimed.has(n))) continue;
      m.matched.forEach((n) => claimed.add(n));
      found.push(m);
      break;
    }
  }
  return found.reverse();
}

/**
 * True when nothing outside the match sees its interior: every output of a matched node other than the root's
 * feeds only matched nodes and is not a graph output. Required before replacing a match by other nodes.
 */
export function isSelfContained(graph: Graph, match: Match): boolean {
  const inside = new Set(match.matched);
  return match.matched.every(
    (n) =>
      n === match.root ||
      n.outputs.every((o) => o === '' || (!graph.isGraphOutput(o) && graph.consumersOf(o).every((c) => inside.has(c)))),
  );
}
