// Structural comparison of IR models: everything a model holds (subgraphs, attributes, initializer bytes, the
// protobuf fields kept opaque) as plain data, and the first place where two such trees differ. Used by round-trip
// tests and the conformance suite; imports only the IR.

import type { Attribute, Graph, Model, Node, Tensor } from './ir.js';

function describeTensor(t: Tensor): unknown {
  // `external` is informational (where the data came from), not part of the graph.
  return {
    name: t.name,
    dtype: t.dtype,
    dims: t.dims,
    data: t.data,
    strings: t.strings,
    docString: t.docString ?? '',
    extra: t.extra,
  };
}

function describeAttribute(a: Attribute): unknown {
  switch (a.type) {
    case 'graph':
      return { type: a.type, value: describeGraph(a.value) };
    case 'graphs':
      return { type: a.type, value: a.value.map(describeGraph) };
    case 'tensor':
      return { type: a.type, value: describeTensor(a.value) };
    case 'tensors':
      return { type: a.type, value: a.value.map(describeTensor) };
    default:
      return a;
  }
}

function describeNode(n: Node): unknown {
  return {
    name: n.name,
    opType: n.opType,
    domain: n.domain,
    inputs: n.inputs,
    outputs: n.outputs,
    attributes: [...n.attributes].map(([k, a]) => [k, describeAttribute(a)]),
    docString: n.docString,
    extra: n.extra,
  };
}

function describeGraph(g: Graph): unknown {
  return {
    name: g.name,
    docString: g.docString,
    inputs: g.inputs,
    outputs: g.outputs,
    valueInfo: [...g.valueInfo],
    initializers: [...g.initializers].map(([k, t]) => [k, describeTensor(t)]),
    nodes: g.nodes.map(describeNode),
    extra: g.extra,
  };
}

/** Everything the IR holds of a model, as plain data (subgraphs included). */
export function describeModel(m: Model): unknown {
  return {
    irVersion: m.irVersion,
    opsetImports: [...m.opsetImports],
    producerName: m.producerName,
    producerVersion: m.producerVersion,
    domain: m.domain,
    modelVersion: m.modelVersion,
    docString: m.docString,
    metadata: [...m.metadata],
    graph: describeGraph(m.graph),
    extra: m.extra,
  };
}

function bytesOf(v: ArrayBufferView): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

export function bytesEqual(a: ArrayBufferView, b: ArrayBufferView): boolean {
  if (a.byteLength !== b.byteLength) return false;
  const x = bytesOf(a);
  const y = bytesOf(b);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (ArrayBuffer.isView(v)) return `<${v.byteLength} bytes>`;
  if (typeof v === 'object' && v !== null) return Array.isArray(v) ? `[${v.length} items]` : '{...}';
  return JSON.stringify(v) ?? String(v);
}

/**
 * First difference between two plain-data trees, or undefined. Object keys include inherited enumerable ones:
 * protobuf-es keeps proto2 defaults on the prototype, and an unset field equals one set to its default.
 */
export function firstDifference(a: unknown, b: unknown, path = ''): string | undefined {
  if (Object.is(a, b)) return undefined;
  const here = path === '' ? '(root)' : path;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object' || typeof b !== 'object')
    return `${here}: ${show(a)} vs ${show(b)}`;
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    if (!ArrayBuffer.isView(a) || !ArrayBuffer.isView(b) || !bytesEqual(a, b))
      return `${here}: ${show(a)} vs ${show(b)} differ`;
    return undefined;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return `${here}: ${show(a)} vs ${show(b)}`;
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  const keys = new Set<string>();
  for (const k in a) keys.add(k);
  for (const k in b) keys.add(k);
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  for (const k of keys) {
    if (typeof ra[k] === 'function' || typeof rb[k] === 'function') continue;
    const d = firstDifference(ra[k], rb[k], path === '' ? k : `${path}.${k}`);
    if (d !== undefined) return d;
  }
  return undefined;
}
