// Making graphs in code: tests, fixtures and passes that insert nodes use this rather than assembling Node objects
// by hand. Names come from the graph's Namer, so a builder never collides with what a model already has.

import { Graph, Node, type Attribute, type Dim, type Model, type Tensor } from './ir.js';
import { Namer } from './naming.js';
import { makeTensor, type NumericArray } from './tensor.js';
import type { DType } from './dtype.js';

export type AttrValue = number | bigint | string | number[] | bigint[] | string[] | Tensor | Graph | Attribute;

/** Plain JS values -> typed attributes. Integers stay ints unless the value has a fraction or `floats` is asked. */
export function toAttribute(v: AttrValue, asFloat = false): Attribute {
  if (typeof v === 'number')
    return asFloat || !Number.isInteger(v) ? { type: 'float', value: v } : { type: 'int', value: BigInt(v) };
  if (typeof v === 'bigint') return { type: 'int', value: v };
  if (typeof v === 'string') return { type: 'string', value: v };
  if (v instanceof Graph) return { type: 'graph', value: v };
  if (Array.isArray(v)) {
    if (v.length > 0 && typeof v[0] === 'string') return { type: 'strings', value: v as string[] };
    if (v.length > 0 && typeof v[0] === 'bigint') return { type: 'ints', value: v as bigint[] };
    const nums = v as number[];
    return asFloat || nums.some((x) => !Number.isInteger(x))
      ? { type: 'floats', value: nums }
      : { type: 'ints', value: nums.map((x) => BigInt(x)) };
  }
  if ('type' in v && 'value' in v) return v as Attribute;
  return { type: 'tensor', value: v as Tensor };
}

export interface OpOptions {
  name?: string;
  domain?: string;
  /** number of outputs (default 1) */
  outputs?: number;
  /** explicit output names */
  outputNames?: string[];
  /** attribute names whose numeric values must be floats even when integral (e.g. epsilon: 1) */
  floatAttrs?: string[];
}

export class GraphBuilder {
  readonly graph: Graph;
  readonly namer: Namer;

  constructor(graph?: Graph) {
    this.graph = graph ?? new Graph({ name: 'main' });
    this.namer = new Namer(this.graph);
  }

  input(name: string, dtype: DType, shape: Dim[]): string {
    this.namer.reserve(name);
    this.graph.inputs.push({ name, type: { dtype, shape } });
    return name;
  }

  output(value: string, dtype?: DType, shape?: Dim[]): void {
    this.graph.outputs.push(
      dtype === undefined ? { name: value } : { name: value, type: { dtype, shape: shape ?? [] } },
    );
  }

  /** Add an initializer; returns its (possibly uniquified) name. */
  init(name: string, values: NumericArray, dims: number[], dtype?: DType): string {
    const unique = this.graph.initializers.has(name) ? this.namer.fresh(name) : name;
    this.namer.reserve(unique);
    this.graph.initializers.set(unique, makeTensor(unique, values, dims, dtype));
    return unique;
  }

  /** Add a node; returns its output names (a single string when it has one output). */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, opts: OpOptions = {}): string {
    return this.opMulti(opType, inputs, attrs, opts)[0]!;
  }

  opMulti(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, opts: OpOptions = {}): string[] {
    const base = opts.name ?? opType;
    const name = this.namer.fresh(base);
    const outputs =
      opts.outputNames?.map((n) => (this.namer.reserve(n), n)) ??
      Array.from({ length: opts.outputs ?? 1 }, (_, i) => this.namer.fresh(`${name}_out${i === 0 ? '' : i}`));
    const attributes = new Map<string, Attribute>();
    for (const [k, v] of Object.entries(attrs))
      attributes.set(k, toAttribute(v, opts.floatAttrs?.includes(k) ?? false));
    this.graph.addNode(new Node({ name, opType, domain: opts.domain ?? '', inputs, outputs, attributes }));
    return outputs;
  }
}

/** A Model around a graph, at the given default-domain opset. */
export function makeModel(graph: Graph, opset = 17, extraOpsets: Record<string, number> = {}): Model {
  return {
    irVersion: opset >= 21 ? 10n : opset >= 19 ? 9n : 8n,
    opsetImports: new Map([['', opset], ...Object.entries(extraOpsets)]),
    producerName: 'quantlens',
    producerVersion: '',
    domain: '',
    modelVersion: 0n,
    docString: '',
    metadata: new Map(),
    graph,
    extra: undefined,
  };
}
