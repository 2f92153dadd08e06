// What `inspect` reports about a model, as plain data.

import { isTensorType, type Graph, type Model, type ValueInfo } from './ir.js';
import { elementCount } from './tensor.js';

export interface ValueSummary {
  name: string;
  dtype: string;
  shape: (number | string)[] | null;
}

export interface ModelSummary {
  opset: Record<string, number>;
  irVersion: number;
  producer: string;
  inputs: ValueSummary[];
  outputs: ValueSummary[];
  nodes: number;
  opCounts: Record<string, number>;
  params: number;
  paramBytes: number;
  initializerDtypes: Record<string, number>;
  metadata: Record<string, string>;
}

function valueSummary(v: ValueInfo): ValueSummary {
  if (!isTensorType(v.type))
    return { name: v.name, dtype: v.type === undefined ? 'unknown' : 'non-tensor', shape: null };
  return {
    name: v.name,
    dtype: v.type.dtype,
    shape: v.type.shape === undefined ? null : v.type.shape.map((d, i) => d ?? `?${i}`),
  };
}

function countOps(graph: Graph, counts: Record<string, number>): number {
  let n = 0;
  for (const node of graph.nodes) {
    const key = node.domain === '' || node.domain === 'ai.onnx' ? node.opType : `${node.domain}.${node.opType}`;
    counts[key] = (counts[key] ?? 0) + 1;
    n++;
    for (const a of node.attributes.values()) {
      if (a.type === 'graph') n += countOps(a.value, counts);
      if (a.type === 'graphs') for (const g of a.value) n += countOps(g, counts);
    }
  }
  return n;
}

export function summarizeModel(model: Model): ModelSummary {
  const g = model.graph;
  const opCounts: Record<string, number> = {};
  const nodes = countOps(g, opCounts);
  const sortedOps = Object.fromEntries(Object.entries(opCounts).sort(([a], [b]) => a.localeCompare(b)));
  let params = 0;
  let paramBytes = 0;
  const initializerDtypes: Record<string, number> = {};
  for (const t of g.initializers.values()) {
    params += elementCount(t.dims);
    paramBytes += t.data.byteLength;
    initializerDtypes[t.dtype] = (initializerDtypes[t.dtype] ?? 0) + 1;
  }
  return {
    opset: Object.fromEntries([...model.opsetImports].sort(([a], [b]) => a.localeCompare(b))),
    irVersion: Number(model.irVersion),
    producer: `${model.producerName} ${model.producerVersion}`.trim(),
    inputs: g.inputs.filter((i) => !g.initializers.has(i.name)).map(valueSummary),
    outputs: g.outputs.map(valueSummary),
    nodes,
    opCounts: sortedOps,
    params,
    paramBytes,
    initializerDtypes,
    metadata: Object.fromEntries(model.metadata),
  };
}
