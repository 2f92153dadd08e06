// IR -> ModelProto. Tensors are written as raw_data, or handed to `placeExternal` which decides whether they go
// to an external file and returns the location entries.

import { create } from '@bufbuild/protobuf';
import {
  AttributeProto_AttributeType as AT,
  AttributeProtoSchema,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  StringStringEntryProtoSchema,
  TensorProto_DataLocation,
  TensorProtoSchema,
  TensorShapeProto_DimensionSchema,
  TensorShapeProtoSchema,
  TypeProto_TensorSchema,
  TypeProtoSchema,
  ValueInfoProtoSchema,
  type AttributeProto,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type TypeProto,
  type ValueInfoProto,
} from 'onnx-buf';
import { dtypeCode } from '../dtype.js';
import { isTensorType, type Attribute, type Graph, type Model, type Node, type Tensor, type ValueInfo } from '../ir.js';

export interface ToProtoOptions {
  /** Returns external-data entries for a tensor stored outside, or undefined to keep it inline. */
  placeExternal?: (tensor: Tensor) => { location: string; offset: number; length: number } | undefined;
}

const utf8 = new TextEncoder();

export function modelToProto(model: Model, opts: ToProtoOptions = {}): ModelProto {
  const extra = model.extra as ModelProto | undefined;
  return create(ModelProtoSchema, {
    irVersion: model.irVersion,
    opsetImport: [...model.opsetImports].map(([domain, version]) =>
      create(OperatorSetIdProtoSchema, { domain, version: BigInt(version) }),
    ),
    producerName: model.producerName,
    producerVersion: model.producerVersion,
    domain: model.domain,
    modelVersion: model.modelVersion,
    docString: model.docString,
    metadataProps: [...model.metadata].map(([key, value]) => create(StringStringEntryProtoSchema, { key, value })),
    graph: graphToProto(model.graph, opts),
    trainingInfo: extra?.trainingInfo ?? [],
    functions: extra?.functions ?? [],
    configuration: extra?.configuration ?? [],
  });
}

function graphToProto(graph: Graph, opts: ToProtoOptions): GraphProto {
  const extra = graph.extra as GraphProto | undefined;
  return create(GraphProtoSchema, {
    name: graph.name,
    docString: graph.docString,
    node: graph.nodes.map((n) => nodeToProto(n, opts)),
    initializer: [...graph.initializers.values()].map((t) => tensorToProto(t, opts)),
    input: graph.inputs.map(valueInfoToProto),
    output: graph.outputs.map(valueInfoToProto),
    valueInfo: [...graph.valueInfo.values()].map(valueInfoToProto),
    sparseInitializer: extra?.sparseInitializer ?? [],
    quantizationAnnotation: extra?.quantizationAnnotation ?? [],
    metadataProps: extra?.metadataProps ?? [],
  });
}

function nodeToProto(node: Node, opts: ToProtoOptions): NodeProto {
  const extra = node.extra as NodeProto | undefined;
  return create(NodeProtoSchema, {
    name: node.name,
    opType: node.opType,
    domain: node.domain,
    input: [...node.inputs],
    output: [...node.outputs],
    attribute: [...node.attributes].map(([name, a]) => attributeToProto(name, a, opts)),
    docString: node.docString,
    overload: extra?.overload ?? '',
    metadataProps: extra?.metadataProps ?? [],
    deviceConfigurations: extra?.deviceConfigurations ?? [],
  });
}

function attributeToProto(name: string, a: Attribute, opts: ToProtoOptions): AttributeProto {
  switch (a.type) {
    case 'float':
      return create(AttributeProtoSchema, { name, type: AT.FLOAT, f: a.value });
    case 'int':
      return create(AttributeProtoSchema, { name, type: AT.INT, i: a.value });
    case 'string':
      return create(AttributeProtoSchema, { name, type: AT.STRING, s: utf8.encode(a.value) });
    case 'tensor':
      // Attribute tensors (Constant values) stay inline: external data is for initializers.
      return create(AttributeProtoSchema, { name, type: AT.TENSOR, t: tensorToProto(a.value, {}) });
    case 'graph':
      return create(AttributeProtoSchema, { name, type: AT.GRAPH, g: graphToProto(a.value, opts) });
    case 'floats':
      return create(AttributeProtoSchema, { name, type: AT.FLOATS, floats: a.value });
    case 'ints':
      return create(AttributeProtoSchema, { name, type: AT.INTS, ints: a.value });
    case 'strings':
      return create(AttributeProtoSchema, { name, type: AT.STRINGS, strings: a.value.map((s) => utf8.encode(s)) });
    case 'tensors':
      return create(AttributeProtoSchema, {
        name,
        type: AT.TENSORS,
        tensors: a.value.map((t) => tensorToProto(t, {})),
      });
    case 'graphs':
      return create(AttributeProtoSchema, { name, type: AT.GRAPHS, graphs: a.value.map((g) => graphToProto(g, opts)) });
    case 'opaque':
      return { ...(a.value as AttributeProto), name };
  }
}

export function tensorToProto(t: Tensor, opts: ToProtoOptions): TensorProto {
  const base = {
    name: t.name,
    dataType: dtypeCode(t.dtype),
    dims: t.dims.map((d) => BigInt(d)),
    docString: t.docString ?? '',
    metadataProps: (t.extra as TensorProto | undefined)?.metadataProps ?? [],
  };
  if (t.dtype === 'string')
    return create(TensorProtoSchema, { ...base, stringData: (t.strings ?? []) as Uint8Array<ArrayBuffer>[] });
  const ext = opts.placeExternal?.(t);
  if (ext !== undefined) {
    return create(TensorProtoSchema, {
      ...base,
      dataLocation: TensorProto_DataLocation.EXTERNAL,
      externalData: [
        create(StringStringEntryProtoSchema, { key: 'location', value: ext.location }),
        create(StringStringEntryProtoSchema, { key: 'offset', value: String(ext.offset) }),
        create(StringStringEntryProtoSchema, { key: 'length', value: String(ext.length) }),
      ],
    });
  }
  return create(TensorProtoSchema, { ...base, rawData: t.data as Uint8Array<ArrayBuffer> });
}

export function valueInfoToProto(v: ValueInfo): ValueInfoProto {
  return create(ValueInfoProtoSchema, {
    name: v.name,
    docString: v.docString ?? '',
    metadataProps: (v.extra as ValueInfoProto | undefined)?.metadataProps ?? [],
    type: v.type === undefined ? undefined : typeToProto(v.type),
  });
}

function typeToProto(type: NonNullable<ValueInfo['type']>): TypeProto {
  if (!isTensorType(type)) return type.opaque as TypeProto;
  return create(TypeProtoSchema, {
    value: {
      case: 'tensorType',
      value: create(TypeProto_TensorSchema, {
        elemType: dtypeCode(type.dtype),
        shape:
          type.shape === undefined
            ? undefined
            : create(TensorShapeProtoSchema, {
                dim: type.shape.map((d) =>
                  create(TensorShapeProto_DimensionSchema, {
                    value:
                      typeof d === 'number'
                        ? { case: 'dimValue', value: BigInt(d) }
                        : typeof d === 'string'
                          ? { case: 'dimParam', value: d }
                          : { case: undefined },
                  }),
                ),
              }),
      }),
    },
  });
}
