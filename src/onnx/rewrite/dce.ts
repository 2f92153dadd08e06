// Dead-code elimination: drop nodes whose outputs reach no graph output, then initializers and value_info
// entries that nothing refers to any more. Subgraphs (If/Loop/Scan bodies) are not rewritten, but every name
// they use from an outer scope keeps its producer alive, so a branch never loses a value it captures.
// Imports the IR only.

import type { Graph, Node } from '../ir.js';

export interface DceResult {
  nodes: number;
  initializers: number;
  valueInfo: number;
}

function subgraphsOf(node: Node): Graph[] {
  const out: Graph[] = [];
  for (const a of node.attributes.values()) {
    if (a.type === 'graph') out.push(a.value);
    else if (a.type === 'graphs') out.push(...a.value);
  }
  return out;
}

/**
 * Names a subgraph uses that it does not define itself (so they come from an enclosing scope). Conservative:
 * any such name counts, even one that turns out to be defined nowhere.
 */
export function outerReferences(graph: Graph): Set<string> {
  const defined = new Set<string>([...graph.inputs.map((i) => i.name), ...graph.initializers.keys()]);
  for (const n of graph.nodes) for (const o of n.outputs) defined.add(o);
  const used = new Set<string>();
  for (const n of graph.nodes) {
    for (const i of n.inputs) if (i !== '') used.add(i);
    for (const sub of subgraphsOf(n)) for (const r of outerReferences(sub)) used.add(r);
  }
  // A branch may return an outer value directly as its output.
  for (const o of graph.outputs) used.add(o.name);
  return new Set([...used].filter((u) => !defined.has(u)));
}

/** Every value a node reads: its inputs plus what its subgraphs capture from outside. */
function reads(node: Node): string[] {
  const names = node.inputs.filter((i) => i !== '');
  for (const sub of subgraphsOf(node)) names.push(...outerReferences(sub));
  return names;
}

export function eliminateDeadCode(graph: Graph): DceResult {
  const liveNodes = new Set<Node>();
  const liveValues = new Set<string>();
  const stack = graph.outputs.map((o) => o.name);
  while (stack.length > 0) {
    const v = stack.pop()!;
    if (liveValues.has(v)) continue;
    liveValues.add(v);
    const p = graph.producerOf(v);
    if (p === undefined || liveNodes.has(p)) continue;
    liveNodes.add(p);
    stack.push(...reads(p));
  }
  const result: DceResult = { nodes: 0, initializers: 0, valueInfo: 0 };
  const dead = new Set(graph.nodes.filter((n) => !liveNodes.has(n)));
  graph.removeNodes(dead);
  result.nodes = dead.size;
  for (const name of [...graph.initializers.keys()]) {
    // An initializer listed as a graph input is part of the model's interface (an overridable default).
    if (liveValues.has(name) || graph.isGraphInput(name)) continue;
    graph.initializers.delete(name);
    result.initializers++;
  }
  for (const name of [...graph.valueInfo.keys()]) {
    if (graph.producerOf(name) !== undefined || graph.isGraphInput(name) || graph.initializers.has(name)) continue;
    graph.valueInfo.delete(name);
    result.valueInfo++;
  }
  return result;
}

function unused(graph: Graph, value: string, captured: ReadonlySet<string>): boolean {
  return (
    graph.consumersOf(value).length === 0 &&
    !graph.isGraphOutput(value) &&
    !graph.isGraphInput(value) &&
    !captured.has(value)
  );
}

/**
 * Local clean-up after a rewrite: remove the given values if nothing uses them any more, and then their
 * producers' inputs in turn. Unlike `eliminateDeadCode` it touches nothing the rewrite did not orphan.
 * Nodes with subgraphs are left alone (their captures are not tracked as consumers). Returns nodes removed.
 */
export function pruneValues(graph: Graph, values: Iterable<string>): number {
  const stack = [...values];
  // Names captured by subgraphs are uses the consumer index does not record.
  const captured = new Set<string>();
  for (const n of graph.nodes) for (const sub of subgraphsOf(n)) for (const r of outerReferences(sub)) captured.add(r);
  let removed = 0;
  while (stack.length > 0) {
    const v = stack.pop()!;
    if (v === '' || !unused(graph, v, captured)) continue;
    if (graph.initializers.delete(v)) {
      graph.valueInfo.delete(v);
      continue;
    }
    const p = graph.producerOf(v);
    if (p === undefined || subgraphsOf(p).length > 0 || !p.outputs.every((o) => o === '' || unused(graph, o, captured)))
      continue;
    graph.removeNode(p);
    removed++;
    for (const o of p.outputs) graph.valueInfo.delete(o);
    stack.push(...p.inputs);
  }
  return removed;
}
