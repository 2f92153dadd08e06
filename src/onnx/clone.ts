// Copying a model so a pass can rewrite the copy: nodes, value lists and maps are new; tensor bytes and subgraphs
// are shared (passes replace tensors, they never write into their bytes).

import { Graph, Node, type Model } from './ir.js';

/** A detached copy of a node (attribute values shared, like tensors), ready to be added to any graph. */
export function cloneNode(n: Node): Node {
  return new Node({
    name: n.name,
    opType: n.opType,
    domain: n.domain,
    inputs: [...n.inputs],
    outputs: [...n.outputs],
    attributes: new Map(n.attributes),
    docString: n.docString,
    extra: n.extra,
  });
}

export function cloneGraph(g: Graph): Graph {
  const copy = new Graph({
    name: g.name,
    docString: g.docString,
    inputs: g.inputs.map((v) => ({ ...v })),
    outputs: g.outputs.map((v) => ({ ...v })),
  });
  for (const [k, t] of g.initializers) copy.initializers.set(k, { ...t, dims: [...t.dims] });
  for (const [k, v] of g.valueInfo) copy.valueInfo.set(k, { ...v });
  copy.extra = g.extra;
  for (const n of g.nodes) copy.addNode(cloneNode(n));
  return copy;
}

export function cloneModel(m: Model): Model {
  return { ...m, opsetImports: new Map(m.opsetImports), metadata: new Map(m.metadata), graph: cloneGraph(m.graph) };
}
