// What counts as a constant value in a graph, and its tensor. Owns the reading of `Constant` nodes; shared by the
// pattern matcher, constant folding and the LayerNorm finder so that all three agree. Imports only the IR.

import type { Graph, Node, Tensor } from '../ir.js';
import { makeTensor } from '../tensor.js';

/**
 * The tensor of a `Constant` node (any of its attribute forms), or undefined for forms quantlens cannot hold
 * (`sparse_value`) and for malformed nodes.
 */
export function constantNodeTensor(node: Node): Tensor | undefined {
  if (node.opType !== 'Constant' || node.domain !== '' || node.attributes.size !== 1) return undefined;
  const name = node.outputs[0] ?? '';
  const [key, attr] = [...node.attributes][0]!;
  switch (key) {
    case 'value':
      return attr.type === 'tensor' ? { ...attr.value, name } : undefined;
    case 'value_float':
      return attr.type === 'float' ? makeTensor(name, Float32Array.of(attr.value), []) : undefined;
    case 'value_floats':
      return attr.type === 'floats' ? makeTensor(name, Float32Array.from(attr.value), [attr.value.length]) : undefined;
    case 'value_int':
      return attr.type === 'int' ? makeTensor(name, BigInt64Array.of(attr.value), []) : undefined;
    case 'value_ints':
      return attr.type === 'ints' ? makeTensor(name, BigInt64Array.from(attr.value), [attr.value.length]) : undefined;
    case 'value_string':
    case 'value_strings': {
      const strings = attr.type === 'string' ? [attr.value] : attr.type === 'strings' ? attr.value : undefined;
      if (strings === undefined) return undefined;
      const enc = new TextEncoder();
      const dims = attr.type === 'string' ? [] : [strings.length];
      return { name, dtype: 'string', dims, data: new Uint8Array(0), strings: strings.map((s) => enc.encode(s)) };
    }
    default:
      return undefined;
  }
}

/**
 * An initializer that a caller cannot override. Old exports also list initializers as graph inputs, which makes
 * them defaults that a feed replaces, so they are not constants.
 */
export function fixedInitializer(graph: Graph, value: string): Tensor | undefined {
  const t = graph.initializers.get(value);
  if (t === undefined || graph.isGraphInput(value)) return undefined;
  return t;
}

/**
 * The tensor behind a value when it is constant: a fixed initializer, a `Constant` node's output, or an
 * `Identity` of either (torch stores de-duplicated parameters that way).
 */
export function constantTensor(graph: Graph, value: string): Tensor | undefined {
  for (let hops = 0; hops < 8; hops++) {
    const init = fixedInitializer(graph, value);
    if (init !== undefined) return init;
    const producer = graph.producerOf(value);
    if (producer === undefined || producer.domain !== '') return undefined;
    if (producer.opType === 'Constant') return constantNodeTensor(producer);
    if (producer.opType !== 'Identity' || producer.inputs[0] === undefined) return undefined;
    value = producer.inputs[0];
  }
  return undefined;
}

export function isConstantValue(graph: Graph, value: string): boolean {
  return constantTensor(graph, value) !== undefined;
}
