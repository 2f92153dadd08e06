// The editable graph IR. Owns Model, Graph, Node, Tensor and value types, and keeps producer/consumer links
// consistent under every mutation. Must not import protobuf types (that is onnx/io's job) or the runtime.

import type { DType } from './dtype.js';
import { modelError } from '../errors.js';

export type Dim = number | string | null;

export interface TensorType {
  dtype: DType;
  /** undefined: rank unknown. A string is a symbolic dimension, null an unnamed unknown one. */
  shape?: Dim[];
}

/** A non-tensor type (sequence, map, optional, sparse) kept opaque so it round-trips untouched. */
export interface OpaqueType {
  opaque: unknown;
}

export type ValueType = TensorType | OpaqueType;

export function isTensorType(t: ValueType | undefined): t is TensorType {
  return t !== undefined && 'dtype' in t;
}

export interface ValueInfo {
  name: string;
  type?: ValueType;
  docString?: string;
  /** ValueInfoProto fields quantlens does not model (metadata_props): kept as read. */
  extra?: unknown;
}

export interface ExternalLocation {
  location: string;
  offset: number;
  length: number;
}

/** An initializer or constant. Numeric data is canonical little-endian raw bytes; strings are byte strings. */
export interface Tensor {
  name: string;
  dtype: DType;
  dims: number[];
  data: Uint8Array;
  strings?: Uint8Array[];
  docString?: string;
  /** Where the data lived when read (informational; writing decides placement anew). */
  external?: ExternalLocation;
  /** TensorProto fields quantlens does not model (metadata_props): kept as read. */
  extra?: unknown;
}

export type Attribute =
  | { type: 'float'; value: number }
  | { type: 'int'; value: bigint }
  | { type: 'string'; value: string }
  | { type: 'tensor'; value: Tensor }
  | { type: 'graph'; value: Graph }
  | { type: 'floats'; value: number[] }
  | { type: 'ints'; value: bigint[] }
  | { type: 'strings'; value: string[] }
  | { type: 'tensors'; value: Tensor[] }
  | { type: 'graphs'; value: Graph[] }
  /** sparse tensors, type protos, function attribute references: kept as read */
  | { type: 'opaque'; value: unknown };

export class Node {
  name: string;
  opType: string;
  domain: string;
  attributes: Map<string, Attribute>;
  docString: string;
  /** Anything of the NodeProto that quantlens does not model (overload, metadata, device configurations). */
  extra: unknown;
  /** Set by the owning graph; mutate through Graph methods only. */
  private inputNames: string[];
  private outputNames: string[];
  /** @internal */ graph: Graph | null = null;

  constructor(init: {
    name: string;
    opType: string;
    domain?: string;
    inputs: string[];
    outputs: string[];
    attributes?: Map<string, Attribute>;
    docString?: string;
    extra?: unknown;
  }) {
    this.name = init.name;
    this.opType = init.opType;
    this.domain = init.domain ?? '';
    this.inputNames = [...init.inputs];
    this.outputNames = [...init.outputs];
    this.attributes = init.attributes ?? new Map();
    this.docString = init.docString ?? '';
    this.extra = init.extra;
  }

  get inputs(): readonly string[] {
    return this.inputNames;
  }

  get outputs(): readonly string[] {
    return this.outputNames;
  }

  /** @internal used by Graph to keep links consistent */
  _setInputs(names: string[]): void {
    this.inputNames = names;
  }

  /** @internal */
  _setOutputs(names: string[]): void {
    this.outputNames = names;
  }

  attr(name: string): Attribute | undefined {
    return this.attributes.get(name);
  }

  /** Integer attribute as a JS number (throws on a non-int attribute; returns `fallback` when absent). */
  intAttr(name: string, fallback: number): number;
  intAttr(name: string): number | undefined;
  intAttr(name: string, fallback?: number): number | undefined {
    const a = this.attributes.get(name);
    if (a === undefined) return fallback;
    if (a.type !== 'int')
      throw modelError(`node ${this.name} (${this.opType}): attribute ${name} is ${a.type}, not int`);
    return Number(a.value);
  }

  floatAttr(name: string, fallback: number): number {
    const a = this.attributes.get(name);
    if (a === undefined) return fallback;
    if (a.type !== 'float') throw modelError(`node ${this.name} (${this.opType}): attribute ${name} is not a float`);
    return a.value;
  }

  intsAttr(name: string): number[] | undefined {
    const a = this.attributes.get(name);
    if (a === undefined) return undefined;
    if (a.type !== 'ints') throw modelError(`node ${this.name} (${this.opType}): attribute ${name} is not ints`);
    return a.value.map(Number);
  }

  stringAttr(name: string, fallback: string): string {
    const a = this.attributes.get(name);
    if (a === undefined) return fallback;
    if (a.type !== 'string') throw modelError(`node ${this.name} (${this.opType}): attribute ${name} is not a string`);
    return a.value;
  }
}

/**
 * A graph: nodes in a list (kept topologically sorted by `topoSort`), inputs/outputs as value infos,
 * initializers by name, known value types, and producer/consumer indices over value names.
 */
export class Graph {
  name: string;
  docString: string;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  readonly initializers = new Map<string, Tensor>();
  /** Types of intermediate values (value_info), by value name. */
  readonly valueInfo = new Map<string, ValueInfo>();
  /** GraphProto fields quantlens does not model (sparse initializers, quantization annotations, metadata). */
  extra: unknown;
  private nodeList: Node[] = [];
  private readonly producers = new Map<string, Node>();
  private readonly consumers = new Map<string, Set<Node>>();

  constructor(init?: { name?: string; inputs?: ValueInfo[]; outputs?: ValueInfo[]; docString?: string }) {
    this.name = init?.name ?? 'graph';
    this.inputs = init?.inputs ?? [];
    this.outputs = init?.outputs ?? [];
    this.docString = init?.docString ?? '';
  }

  get nodes(): readonly Node[] {
    return this.nodeList;
  }

  addNode(node: Node, index?: number): Node {
    if (node.graph !== null) throw new Error(`node ${node.name} already belongs to a graph`);
    node.graph = this;
    if (index === undefined) this.nodeList.push(node);
    else this.nodeList.splice(index, 0, node);
    for (const input of node.inputs) this.link(input, node);
    for (const output of node.outputs) {
      if (output === '') continue;
      const other = this.producers.get(output);
      if (other !== undefined && other !== node)
        throw modelError(`value ${output} is produced by both ${other.name} and ${node.name}`);
      this.producers.set(output, node);
    }
    return node;
  }

  removeNode(node: Node): void {
    const i = this.nodeList.indexOf(node);
    if (i < 0) throw new Error(`node ${node.name} is not in graph ${this.name}`);
    this.nodeList.splice(i, 1);
    for (const input of node.inputs) this.unlink(input, node);
    for (const output of node.outputs) if (this.producers.get(output) === node) this.producers.delete(output);
    node.graph = null;
  }

  /** Removes many nodes in one pass (removeNode one by one is quadratic in the graph size). */
  removeNodes(nodes: ReadonlySet<Node>): void {
    for (const node of nodes)
      if (node.graph !== this) throw new Error(`node ${node.name} is not in graph ${this.name}`);
    this.nodeList = this.nodeList.filter((n) => !nodes.has(n));
    for (const node of nodes) {
      for (const input of node.inputs) this.unlink(input, node);
      for (const output of node.outputs) if (this.producers.get(output) === node) this.producers.delete(output);
      node.graph = null;
    }
  }

  producerOf(value: string): Node | undefined {
    return this.producers.get(value);
  }

  consumersOf(value: string): Node[] {
    const set = this.consumers.get(value);
    if (set === undefined) return [];
    // Deterministic order: graph order, not insertion order of the set.
    return this.nodeList.filter((n) => set.has(n));
  }

  isGraphOutput(value: string): boolean {
    return this.outputs.some((o) => o.name === value);
  }

  isGraphInput(value: string): boolean {
    return this.inputs.some((i) => i.name === value);
  }

  setNodeInput(node: Node, index: number, value: string): void {
    const inputs = [...node.inputs];
    if (index < 0 || index > inputs.length) throw new Error(`input index ${index} out of range for ${node.name}`);
    const old = inputs[index];
    inputs[index] = value;
    node._setInputs(inputs);
    if (old !== undefined && !inputs.includes(old)) this.unlink(old, node);
    this.link(value, node);
  }

  setNodeOutput(node: Node, index: number, value: string): void {
    const outputs = [...node.outputs];
    const old = outputs[index];
    if (old === undefined) throw new Error(`output index ${index} out of range for ${node.name}`);
    if (this.producers.get(old) === node) this.producers.delete(old);
    outputs[index] = value;
    node._setOutputs(outputs);
    if (value !== '') this.producers.set(value, node);
  }

  /** Point every consumer (and graph output) of `oldValue` at `newValue`. */
  replaceAllUses(oldValue: string, newValue: string, except?: Node): void {
    for (const consumer of this.consumersOf(oldValue)) {
      if (consumer === except) continue;
      consumer.inputs.forEach((name, i) => {
        if (name === oldValue) this.setNodeInput(consumer, i, newValue);
      });
    }
    for (const out of this.outputs) if (out.name === oldValue) out.name = newValue;
  }

  /** Reorder nodes topologically (stable: keeps the existing order where dependencies allow). */
  topoSort(): void {
    const available = new Set<string>([...this.inputs.map((i) => i.name), ...this.initializers.keys(), '']);
    const nodes = this.nodeList;
    const pending = new Map<Node, number>();
    const waiting = new Map<string, number[]>();
    // Positions of the nodes whose inputs are all available, as a binary min-heap: the earliest runs next. (A scan
    // of a plain list made graphs with many independent nodes quadratic: 40,000 took 30 s.)
    const ready: number[] = [];
    const push = (p: number) => {
      let i = ready.push(p) - 1;
      while (i > 0) {
        const up = (i - 1) >> 1;
        if (ready[up]! <= p) break;
        ready[i] = ready[up]!;
        i = up;
      }
      ready[i] = p;
    };
    const pop = (): number => {
      const top = ready[0]!;
      const last = ready.pop()!;
      if (ready.length > 0) {
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          if (l >= ready.length) break;
          const c = l + 1 < ready.length && ready[l + 1]! < ready[l]! ? l + 1 : l;
          if (ready[c]! >= last) break;
          ready[i] = ready[c]!;
          i = c;
        }
        ready[i] = last;
      }
      return top;
    };
    nodes.forEach((node, position) => {
      const missing = new Set(node.inputs.filter((v) => !available.has(v) && this.producers.has(v)));
      // Values produced nowhere (outer-scope names in subgraphs, or dangling) do not block ordering.
      pending.set(node, missing.size);
      for (const v of missing) {
        const list = waiting.get(v) ?? [];
        list.push(position);
        waiting.set(v, list);
      }
      if (missing.size === 0) push(position);
    });
    const order: Node[] = [];
    while (ready.length > 0) {
      const node = nodes[pop()]!;
      order.push(node);
      for (const out of node.outputs) {
        for (const w of waiting.get(out) ?? []) {
          const left = pending.get(nodes[w]!)! - 1;
          pending.set(nodes[w]!, left);
          if (left === 0) push(w);
        }
        waiting.delete(out);
      }
    }
    if (order.length !== nodes.length) {
      const placed = new Set(order);
      const stuck = nodes.find((n) => !placed.has(n));
      throw modelError(`graph ${this.name} has a cycle (node ${stuck?.name ?? '?'} can never run)`);
    }
    this.nodeList = order;
  }

  /** Every value name in use: inputs, outputs, initializers, node outputs, value_info. */
  *valueNames(): Iterable<string> {
    for (const i of this.inputs) yield i.name;
    for (const o of this.outputs) yield o.name;
    yield* this.initializers.keys();
    yield* this.valueInfo.keys();
    for (const n of this.nodeList) {
      yield* n.outputs;
      yield* n.inputs;
    }
  }

  /** The tensor type of a value when known (input, output, value_info or initializer). */
  typeOf(value: string): TensorType | undefined {
    const init = this.initializers.get(value);
    if (init !== undefined) return { dtype: init.dtype, shape: [...init.dims] };
    const info =
      this.inputs.find((i) => i.name === value) ??
      this.outputs.find((o) => o.name === value) ??
      this.valueInfo.get(value);
    return isTensorType(info?.type) ? info.type : undefined;
  }

  private link(value: string, node: Node): void {
    if (value === '') return;
    let set = this.consumers.get(value);
    if (set === undefined) {
      set = new Set();
      this.consumers.set(value, set);
    }
    set.add(node);
  }

  private unlink(value: string, node: Node): void {
    const set = this.consumers.get(value);
    if (set === undefined) return;
    set.delete(node);
    if (set.size === 0) this.consumers.delete(value);
  }
}

export interface Model {
  irVersion: bigint;
  /** opset version per domain ('' is the default ONNX domain) */
  opsetImports: Map<string, number>;
  producerName: string;
  producerVersion: string;
  domain: string;
  modelVersion: bigint;
  docString: string;
  metadata: Map<string, string>;
  graph: Graph;
  /** ModelProto fields quantlens does not model (functions, training info, configuration): kept as read. */
  extra: unknown;
}

/** The default-domain opset of a model (ONNX: '' and 'ai.onnx' are the same domain). */
export function defaultOpset(model: Model): number {
  return model.opsetImports.get('') ?? model.opsetImports.get('ai.onnx') ?? 0;
}
