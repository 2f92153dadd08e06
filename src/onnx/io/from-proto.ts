// ModelProto -> IR. Pure conversion: external tensor bytes come from a loader the caller provides, so file access
// and its safety rules stay in external-data.ts.

import { create } from '@bufbuild/protobuf';
import {
  AttributeProto_AttributeType as AT,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  TensorProto_DataLocation,
  TensorProtoSchema,
  ValueInfoProtoSchema,
  type AttributeProto,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type TypeProto,
  type ValueInfoProto,
} from 'onnx-buf';
import { dtypeBits, dtypeFromCode, rawByteLength, type DType } from '../dtype.js';
import {
  Graph,
  Node,
  type Attribute,
  type Dim,
  type Model,
  type Tensor,
  type ValueInfo,
  type ValueType,
} from '../ir.js';
import { elementCount } from '../tensor.js';
import { limitError, modelError, unsupportedError } from '../../errors.js';

export interface ExternalRef {
  location: string;
  offset: number;
  length: number | undefined;
}

export interface ConvertOptions {
  loadExternal: (tensor: string, ref: ExternalRef) => Uint8Array;
  maxTensorBytes: number;
  maxNodes: number;
}

// fatal: a string attribute that is not UTF-8 is kept opaque (as bytes) instead of being mangled.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function isUtf8(bytes: Uint8Array): boolean {
  try {
    utf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

export function modelFromProto(proto: ModelProto, opts: ConvertOptions): Model {
  if (proto.graph === undefined) throw modelError('not an ONNX model: it has no graph');
  const opsetImports = new Map<string, number>();
  for (const o of proto.opsetImport) opsetImports.set(o.domain, Number(o.version));
  const counter = { nodes: 0 };
  const graph = graphFromProto(proto.graph, opts, counter);
  const extra = create(ModelProtoSchema, {
    trainingInfo: proto.trainingInfo,
    functions: proto.functions,
    configuration: proto.configuration,
  });
  return {
    irVersion: proto.irVersion,
    opsetImports,
    producerName: proto.producerName,
    producerVersion: proto.producerVersion,
    domain: proto.domain,
    modelVersion: proto.modelVersion,
    docString: proto.docString,
    metadata: new Map(proto.metadataProps.map((p) => [p.key, p.value])),
    graph,
    extra,
  };
}

function graphFromProto(g: GraphProto, opts: ConvertOptions, counter: { nodes: number }): Graph {
  const graph = new Graph({
    name: g.name,
    docString: g.docString,
    inputs: g.input.map(valueInfoFromProto),
    outputs: g.output.map(valueInfoFromProto),
  });
  for (const t of g.initializer) graph.initializers.set(t.name, tensorFromProto(t, opts));
  for (const v of g.valueInfo) graph.valueInfo.set(v.name, valueInfoFromProto(v));
  for (const n of g.node) {
    counter.nodes++;
    if (counter.nodes > opts.maxNodes)
      throw limitError(
        `model has more than ${opts.maxNodes} nodes`,
        'raise the limit with --max-nodes if this is expected',
      );
    graph.addNode(nodeFromProto(n, opts, counter));
  }
  graph.extra = create(GraphProtoSchema, {
    sparseInitializer: g.sparseInitializer,
    quantizationAnnotation: g.quantizationAnnotation,
    metadataProps: g.metadataProps,
  });
  return graph;
}

function nodeFromProto(n: NodeProto, opts: ConvertOptions, counter: { nodes: number }): Node {
  const attributes = new Map<string, Attribute>();
  for (const a of n.attribute) attributes.set(a.name, attributeFromProto(a, n, opts, counter));
  const hasExtra = n.overload !== '' || n.metadataProps.length > 0 || n.deviceConfigurations.length > 0;
  return new Node({
    name: n.name,
    opType: n.opType,
    domain: n.domain,
    inputs: n.input,
    outputs: n.output,
    attributes,
    docString: n.docString,
    extra: hasExtra
      ? create(NodeProtoSchema, {
          overload: n.overload,
          metadataProps: n.metadataProps,
          deviceConfigurations: n.deviceConfigurations,
        })
      : undefined,
  });
}

function attributeFromProto(
  a: AttributeProto,
  n: NodeProto,
  opts: ConvertOptions,
  counter: { nodes: number },
): Attribute {
  // Attribute references, doc strings and non-UTF-8 strings have no place in the typed IR: keep them as read.
  if (a.refAttrName !== '' || a.docString !== '') return { type: 'opaque', value: a };
  switch (a.type) {
    case AT.FLOAT:
      return { type: 'float', value: a.f };
    case AT.INT:
      return { type: 'int', value: a.i };
    case AT.STRING:
      return isUtf8(a.s) ? { type: 'string', value: utf8.decode(a.s) } : { type: 'opaque', value: a };
    case AT.TENSOR:
      if (a.t === undefined) throw modelError(`node ${n.name} (${n.opType}): tensor attribute ${a.name} has no tensor`);
      return { type: 'tensor', value: tensorFromProto(a.t, opts) };
    case AT.GRAPH:
      if (a.g === undefined) throw modelError(`node ${n.name} (${n.opType}): graph attribute ${a.name} has no graph`);
      return { type: 'graph', value: graphFromProto(a.g, opts, counter) };
    case AT.FLOATS:
      return { type: 'floats', value: [...a.floats] };
    case AT.INTS:
      return { type: 'ints', value: [...a.ints] };
    case AT.STRINGS:
      return a.strings.every(isUtf8)
        ? { type: 'strings', value: a.strings.map((s) => utf8.decode(s)) }
        : { type: 'opaque', value: a };
    case AT.TENSORS:
      return { type: 'tensors', value: a.tensors.map((t) => tensorFromProto(t, opts)) };
    case AT.GRAPHS:
      return { type: 'graphs', value: a.graphs.map((g) => graphFromProto(g, opts, counter)) };
    default:
      return { type: 'opaque', value: a };
  }
}

export function valueInfoFromProto(v: ValueInfoProto): ValueInfo {
  const info: ValueInfo = { name: v.name };
  const type = v.type === undefined ? undefined : typeFromProto(v.type);
  if (type !== undefined) info.type = type;
  if (v.docString !== '') info.docString = v.docString;
  if (v.metadataProps.length > 0) info.extra = create(ValueInfoProtoSchema, { metadataProps: v.metadataProps });
  return info;
}

function typeFromProto(t: TypeProto): ValueType | undefined {
  if (t.value.case !== 'tensorType' || t.denotation !== '') return { opaque: t };
  const tt = t.value.value;
  const dtype = dtypeFromCode(tt.elemType);
  // Dimension denotations have no place in the IR's shapes: keep such a type as read.
  if (dtype === undefined || tt.shape?.dim.some((d) => d.denotation !== '')) return { opaque: t };
  if (tt.shape === undefined) return { dtype };
  const shape: Dim[] = tt.shape.dim.map((d) => {
    if (d.value.case === 'dimValue') return Number(d.value.value);
    if (d.value.case === 'dimParam') return d.value.value;
    return null;
  });
  return { dtype, shape };
}

function checkedDims(t: TensorProto): number[] {
  return t.dims.map((d) => {
    if (d < 0n || d > BigInt(Number.MAX_SAFE_INTEGER)) throw modelError(`tensor ${t.name}: invalid dimension ${d}`);
    return Number(d);
  });
}

export function tensorFromProto(t: TensorProto, opts: ConvertOptions): Tensor {
  const dtype = dtypeFromCode(t.dataType);
  if (dtype === undefined) throw modelError(`tensor ${t.name}: unknown data type ${t.dataType}`);
  if (t.segment !== undefined) throw unsupportedError(`tensor ${t.name}: segmented tensors are not supported`);
  const dims = checkedDims(t);
  const count = elementCount(dims);
  const tensor: Tensor = { name: t.name, dtype, dims, data: new Uint8Array(0) };
  if (t.docString !== '') tensor.docString = t.docString;
  if (t.metadataProps.length > 0) tensor.extra = create(TensorProtoSchema, { metadataProps: t.metadataProps });
  if (dtype === 'string') {
    if (t.stringData.length !== count)
      throw modelError(`tensor ${t.name}: ${t.stringData.length} strings for ${count} elements`);
    tensor.strings = t.stringData;
    return tensor;
  }
  const expected = rawByteLength(dtype, count);
  if (expected > opts.maxTensorBytes)
    throw limitError(
      `tensor ${t.name}: ${dtype}[${dims.join(', ')}] needs ${expected} bytes, over the ${opts.maxTensorBytes}-byte limit`,
      'raise the limit with --max-tensor-bytes if this is expected',
    );
  if (t.dataLocation === TensorProto_DataLocation.EXTERNAL) {
    const entries = new Map(t.externalData.map((e) => [e.key, e.value]));
    const location = entries.get('location');
    if (location === undefined) throw modelError(`tensor ${t.name}: external data without a location`);
    const offset = parseNonNegative(entries.get('offset') ?? '0', t.name, 'offset');
    const lengthText = entries.get('length');
    const length = lengthText === undefined ? undefined : parseNonNegative(lengthText, t.name, 'length');
    if (length !== undefined && length !== expected)
      throw modelError(`tensor ${t.name}: external length ${length} does not match ${expected} bytes for its shape`);
    tensor.data = opts.loadExternal(t.name, { location, offset, length: length ?? expected });
    tensor.external = { location, offset, length: length ?? expected };
  } else {
    tensor.data = rawFromFields(t, dtype, count);
  }
  if (tensor.data.byteLength !== expected)
    throw modelError(
      `tensor ${t.name}: ${tensor.data.byteLength} bytes of data, ${expected} expected for ${dtype}[${dims.join(', ')}]`,
    );
  return tensor;
}

function parseNonNegative(text: string, tensor: string, what: string): number {
  if (!/^\d+$/.test(text) || Number(text) > Number.MAX_SAFE_INTEGER)
    throw modelError(`tensor ${tensor}: external data ${what} "${text}" is not a valid byte count`);
  return Number(text);
}

/** Typed repeated fields -> canonical raw little-endian bytes. */
function rawFromFields(t: TensorProto, dtype: DType, count: number): Uint8Array {
  if (t.rawData.byteLength > 0 || count === 0) return t.rawData;
  const bits = dtypeBits(dtype);
  switch (dtype) {
    case 'float32':
    case 'complex64':
      return new Uint8Array(Float32Array.from(t.floatData).buffer);
    case 'float64':
    case 'complex128':
      return new Uint8Array(Float64Array.from(t.doubleData).buffer);
    case 'int64':
      return new Uint8Array(BigInt64Array.from(t.int64Data).buffer);
    case 'uint32':
      return new Uint8Array(Uint32Array.from(t.uint64Data, (v) => Number(v)).buffer);
    case 'uint64':
      return new Uint8Array(BigUint64Array.from(t.uint64Data).buffer);
    default: {
      // int32_data carries int32 and every narrower type; sub-byte types arrive already packed, one byte each.
      if (bits === 32) return new Uint8Array(Int32Array.from(t.int32Data).buffer);
      if (bits === 16) return new Uint8Array(Uint16Array.from(t.int32Data).buffer);
      return Uint8Array.from(t.int32Data, (v) => v & 0xff);
    }
  }
}
