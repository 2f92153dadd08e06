// What the unit finder needs to know about a graph, computed once: which values are constant, which depend on the
// primary inputs (the "main" stream: the image or the tokens) and which only on the others (side streams such as a
// UNet's time step), which nodes are weighted layers, and the dominator tree of the main stream. Shortcut-split
// Convs (q-diffusion.md §5) are joined back to the Concat they replaced, so a decoder ResBlock stays one region.
// Imports the IR and plan.ts's weight lookup; not the runtime.

import type { Graph, Model, Node } from '../../onnx/ir.js';
import { fixedInitializer } from '../../onnx/rewrite/const-value.js';
import { initializerBehind, weightInput } from '../../quant/plan.js';
import { usageError } from '../../errors.js';

/** A shortcut split as q-diffusion/shortcut-split.ts records it (the Concat node and the part Convs). */
export interface SplitJoin {
  concat: string;
  parts: readonly { conv: string }[];
}

export interface GraphFacts {
  graph: Graph;
  /** nodes in graph (topological) order */
  nodes: readonly Node[];
  index: ReadonlyMap<Node, number>;
  byName: ReadonlyMap<string, Node>;
  /** values computed from initializers and Constant nodes only */
  constant: ReadonlySet<string>;
  /** non-constant values that depend on a primary input */
  main: ReadonlySet<string>;
  primaryInputs: readonly string[];
  /** part Conv -> the Concat it was split from (dominance treats the part as reading the Concat) */
  joins: ReadonlyMap<Node, Node>;
  /** immediate dominator of each main node in the main stream: a node, or null for the primary inputs */
  idom: ReadonlyMap<Node, Node | null>;
  /** the main-stream predecessors used for dominance (split parts read their Concat) */
  mainPreds(node: Node): (Node | null)[];
}

const WEIGHTED_OPS = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul']);

/** A Conv/ConvTranspose/Gemm/MatMul whose weight is an initializer (possibly behind Identity). */
export function isWeightedLayer(g: Graph, node: Node): boolean {
  if (!WEIGHTED_OPS.has(node.opType) || node.domain !== '') return false;
  const w = weightInput(g, node);
  const name = w === undefined ? undefined : node.inputs[w.input];
  return name !== undefined && name !== '' && initializerBehind(g, name) !== undefined;
}

/** The primary inputs when not given: the non-initializer graph inputs of the highest rank (an image beats t). */
export function defaultPrimaryInputs(g: Graph): string[] {
  const inputs = g.inputs.filter((i) => !g.initializers.has(i.name));
  const rank = (name: string) => g.typeOf(name)?.shape?.length ?? 0;
  const best = Math.max(...inputs.map((i) => rank(i.name)));
  return inputs.filter((i) => rank(i.name) === best).map((i) => i.name);
}

/** Values computed from fixed initializers and Constant nodes only (one pass when `nodes` are sorted). */
export function constantValues(g: Graph, nodes: readonly Node[]): Set<string> {
  const constant = new Set<string>();
  for (const name of g.initializers.keys()) if (fixedInitializer(g, name) !== undefined) constant.add(name);
  const candidates = nodes.filter(
    (n) =>
      n.domain === '' &&
      !n.opType.startsWith('Random') &&
      ![...n.attributes.values()].some((a) => a.type === 'graph' || a.type === 'graphs'),
  );
  for (let changed = true; changed;) {
    changed = false;
    for (const n of candidates) {
      if (n.outputs.every((o) => o === '' || constant.has(o))) continue;
      if (!n.inputs.every((i) => i === '' || constant.has(i))) continue;
      for (const o of n.outputs) if (o !== '') constant.add(o);
      changed = true;
    }
  }
  return constant;
}

/** Split-sum Adds: Add(partConv(a), partConv(b)) with a, b distinct inputs of one channel Concat, or chains. */
function detectJoins(
  g: Graph,
  nodes: readonly Node[],
  byName: ReadonlyMap<string, Node>,
  given?: readonly SplitJoin[],
) {
  const joins = new Map<Node, Node>();
  for (const s of given ?? []) {
    const cat = byName.get(s.concat);
    if (cat === undefined) continue;
    for (const p of s.parts) {
      const conv = byName.get(p.conv);
      if (conv !== undefined) joins.set(conv, cat);
    }
  }
  // Part sets reaching each value: value -> { concat, tensors read, convs }.
  const parts = new Map<string, { cat: Node; tensors: Set<string>; convs: Node[] }>();
  const partOf = (v: string) => {
    const known = parts.get(v);
    if (known !== undefined) return known;
    const p = g.producerOf(v);
    if (p?.opType !== 'Conv' || !isWeightedLayer(g, p)) return undefined;
    const x = p.inputs[0]!;
    const cat = g
      .consumersOf(x)
      .find((c) => c.opType === 'Concat' && c.intAttr('axis', 0) === 1 && c.inputs.filter((i) => i === x).length === 1);
    return cat === undefined ? undefined : { cat, tensors: new Set([x]), convs: [p] };
  };
  for (const n of nodes) {
    if (n.opType !== 'Add' || n.inputs.length !== 2) continue;
    const [a, b] = [partOf(n.inputs[0]!), partOf(n.inputs[1]!)];
    if (a === undefined || b === undefined || a.cat !== b.cat) continue;
    if ([...b.tensors].some((t) => a.tensors.has(t))) continue;
    const merged = { cat: a.cat, tensors: new Set([...a.tensors, ...b.tensors]), convs: [...a.convs, ...b.convs] };
    parts.set(n.outputs[0]!, merged);
    for (const c of merged.convs) joins.set(c, merged.cat);
  }
  return joins;
}

export function graphFacts(
  model: Model,
  opts: { primaryInputs?: readonly string[]; splits?: readonly SplitJoin[] } = {},
): GraphFacts {
  const g = model.graph;
  const nodes = g.nodes;
  const index = new Map(nodes.map((n, i) => [n, i]));
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const primaryInputs = opts.primaryInputs ?? defaultPrimaryInputs(g);
  for (const p of primaryInputs)
    if (!g.isGraphInput(p)) throw usageError(`primary input ${p} is not an input of the model`);
  const constant = constantValues(g, nodes);
  const main = new Set<string>(primaryInputs);
  for (const n of nodes)
    if (n.inputs.some((i) => main.has(i))) for (const o of n.outputs) if (o !== '' && !constant.has(o)) main.add(o);
  const joins = detectJoins(g, nodes, byName, opts.splits);

  const mainPreds = (node: Node): (Node | null)[] => {
    const join = joins.get(node);
    if (join !== undefined) return [join];
    const preds: (Node | null)[] = [];
    for (const i of node.inputs) {
      if (!main.has(i)) continue;
      const p = g.producerOf(i);
      if (!preds.includes(p ?? null)) preds.push(p ?? null);
    }
    return preds;
  };

  // Dominators of a DAG in one pass over a topological order (the joins add Concat -> part edges, so order anew).
  const mainNodes = nodes.filter((n) => n.outputs.some((o) => main.has(o)));
  const order = topological(mainNodes, mainPreds);
  const idom = new Map<Node, Node | null>();
  const depth = new Map<Node | null, number>([[null, 0]]);
  const lca = (a: Node | null, b: Node | null): Node | null => {
    while (a !== b) {
      if (depth.get(a)! >= depth.get(b)!) a = idom.get(a!) ?? null;
      else b = idom.get(b!) ?? null;
    }
    return a;
  };
  for (const n of order) {
    const preds = mainPreds(n).filter((p) => p === null || depth.has(p));
    let d: Node | null | undefined;
    for (const p of preds) d = d === undefined ? p : lca(d, p);
    idom.set(n, d ?? null);
    depth.set(n, depth.get(d ?? null)! + 1);
  }
  return { graph: g, nodes, index, byName, constant, main, primaryInputs, joins, idom, mainPreds };
}

function topological(nodes: readonly Node[], preds: (n: Node) => (Node | null)[]): Node[] {
  const inSet = new Set(nodes);
  const done = new Set<Node>();
  const out: Node[] = [];
  const visit = (root: Node) => {
    const stack: [Node, boolean][] = [[root, false]];
    while (stack.length > 0) {
      const [n, expanded] = stack.pop()!;
      if (done.has(n)) continue;
      if (expanded) {
        done.add(n);
        out.push(n);
        continue;
      }
      stack.push([n, true]);
      for (const p of preds(n)) if (p !== null && inSet.has(p) && !done.has(p)) stack.push([p, false]);
    }
  };
  for (const n of nodes) visit(n);
  return out;
}
