// Round trips of our own models and of protobuf features the IR keeps opaque: read -> write -> read must give the
// same graph, and ORT must compute the same outputs, bit for bit, on the original bytes and on our copy.

import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  AttributeProto_AttributeType as AT,
  AttributeProtoSchema,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  SparseTensorProtoSchema,
  StringStringEntryProtoSchema,
  TensorProtoSchema,
  TensorShapeProto_DimensionSchema,
  TensorShapeProtoSchema,
  TypeProto_SequenceSchema,
  TypeProto_TensorSchema,
  TypeProtoSchema,
  ValueInfoProtoSchema,
  FunctionProtoSchema,
} from 'onnx-buf';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeModel, firstDifference } from '../compare.js';
import { createOrtSession } from '../../runtime/ort.js';
import type { HostTensor } from '../../util/host-tensor.js';
import { isTensorType } from '../ir.js';
import { toFloat32 } from '../tensor.js';
import { parseModel, parseTensor, readModel, serializeModel } from './index.js';

const FIXTURES = ['tiny-deit-op17', 'tiny-deit-op13', 'tiny-unet-op17', 'tiny-unet-op13'];

function refInputs(name: string): Record<string, HostTensor> {
  const ref = JSON.parse(readFileSync(`fixtures/${name}.ref.json`, 'utf8')) as {
    inputs: Record<string, { dtype: 'float32' | 'int64'; shape: number[]; data: string }>;
  };
  const feeds: Record<string, HostTensor> = {};
  for (const [k, v] of Object.entries(ref.inputs)) {
    const bytes = Uint8Array.from(Buffer.from(v.data, 'base64'));
    const data = v.dtype === 'float32' ? new Float32Array(bytes.buffer) : new BigInt64Array(bytes.buffer);
    feeds[k] = { dtype: v.dtype, dims: v.shape, data };
  }
  return feeds;
}

async function runBytes(bytes: Uint8Array, feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
  const s = await createOrtSession(bytes, { threads: 1 });
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}

function rawBytes(t: HostTensor): Buffer {
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

describe('round trip of the fixture models', () => {
  it.each(FIXTURES)('%s: same graph, and bit-identical ORT outputs on the copy', async (name) => {
    const path = `fixtures/${name}.onnx`;
    const original = readFileSync(path);
    const model = readModel(path);
    const before = describeModel(model);
    const copy = serializeModel(model);
    const again = parseModel(copy);
    expect(firstDifference(before, describeModel(again))).toBeUndefined();
    expect(Buffer.from(serializeModel(again)).equals(Buffer.from(copy))).toBe(true);

    const feeds = refInputs(name);
    const a = await runBytes(original, feeds);
    const b = await runBytes(copy, feeds);
    expect(Object.keys(b)).toEqual(Object.keys(a));
    for (const k of Object.keys(a)) expect(rawBytes(b[k]!).equals(rawBytes(a[k]!))).toBe(true);
  });
});

// A model using protobuf features the IR does not model directly: each must come back unchanged.
function exoticModelBytes(): Uint8Array {
  const entry = (key: string, value: string) => create(StringStringEntryProtoSchema, { key, value });
  const tensorType = (dims: { value: number | string; denotation?: string }[]) =>
    create(TypeProtoSchema, {
      value: {
        case: 'tensorType',
        value: create(TypeProto_TensorSchema, {
          elemType: 1,
          shape: create(TensorShapeProtoSchema, {
            dim: dims.map((d) =>
              create(TensorShapeProto_DimensionSchema, {
                value:
                  typeof d.value === 'number'
                    ? { case: 'dimValue', value: BigInt(d.value) }
                    : { case: 'dimParam', value: d.value },
                denotation: d.denotation ?? '',
              }),
            ),
          }),
        }),
      },
    });
  const graph = create(GraphProtoSchema, {
    name: 'g',
    input: [
      create(ValueInfoProtoSchema, {
        name: 'x',
        type: tensorType([
          { value: 'N', denotation: 'DATA_BATCH' },
          { value: 3, denotation: 'DATA_CHANNEL' },
        ]),
        metadataProps: [entry('origin', 'camera')],
      }),
    ],
    output: [create(ValueInfoProtoSchema, { name: 'y', type: tensorType([{ value: 'N' }, { value: 3 }]) })],
    valueInfo: [
      create(ValueInfoProtoSchema, {
        name: 'seq',
        type: create(TypeProtoSchema, {
          value: {
            case: 'sequenceType',
            value: create(TypeProto_SequenceSchema, { elemType: tensorType([{ value: 2 }]) }),
          },
        }),
      }),
    ],
    initializer: [
      // typed fields instead of raw_data, as old exporters write them
      create(TensorProtoSchema, { name: 'b', dataType: 1, dims: [3n], floatData: [1, -2, 0.5] }),
      create(TensorProtoSchema, { name: 'i8', dataType: 3, dims: [2n], int32Data: [-1, 127] }),
      create(TensorProtoSchema, {
        name: 'h',
        dataType: 10,
        dims: [1n],
        int32Data: [0x3c00],
        metadataProps: [entry('k', 'v')],
      }),
      create(TensorProtoSchema, { name: 'i64', dataType: 7, dims: [2n], int64Data: [-5n, 9n] }),
      create(TensorProtoSchema, { name: 'u32', dataType: 12, dims: [1n], uint64Data: [4000000000n] }),
      create(TensorProtoSchema, { name: 'd', dataType: 11, dims: [1n], doubleData: [Math.PI] }),
      create(TensorProtoSchema, {
        name: 's',
        dataType: 8,
        dims: [2n],
        stringData: [Uint8Array.of(0xff, 0), Uint8Array.of(0x61)],
      }),
      create(TensorProtoSchema, { name: 'empty', dataType: 1, dims: [0n, 4n] }),
    ],
    sparseInitializer: [
      create(SparseTensorProtoSchema, {
        dims: [4n],
        values: create(TensorProtoSchema, { name: 'sp', dataType: 1, dims: [1n], floatData: [7] }),
        indices: create(TensorProtoSchema, { name: 'sp_i', dataType: 7, dims: [1n], int64Data: [2n] }),
      }),
    ],
    metadataProps: [entry('graph-key', 'graph-value')],
    node: [
      create(NodeProtoSchema, {
        name: 'add',
        opType: 'Add',
        input: ['x', 'b'],
        output: ['y'],
        docString: 'adds',
        attribute: [
          create(AttributeProtoSchema, { name: 'latin1', type: AT.STRING, s: Uint8Array.of(0x63, 0x61, 0x66, 0xe9) }),
          create(AttributeProtoSchema, { name: 'documented', type: AT.INT, i: 3n, docString: 'why 3' }),
          create(AttributeProtoSchema, { name: 'ref', type: AT.FLOAT, refAttrName: 'alpha' }),
          create(AttributeProtoSchema, {
            name: 'bom',
            type: AT.STRINGS,
            strings: [Uint8Array.of(0xef, 0xbb, 0xbf, 0x61)],
          }),
          create(AttributeProtoSchema, { name: 'f', type: AT.FLOAT, f: -0 }),
          create(AttributeProtoSchema, {
            name: 'tp',
            type: AT.TYPE_PROTO,
            tp: tensorType([{ value: 1 }]),
          }),
        ],
        overload: 'v2',
        metadataProps: [entry('node-key', 'node-value')],
      }),
    ],
  });
  const model = create(ModelProtoSchema, {
    irVersion: 10n,
    opsetImport: [
      create(OperatorSetIdProtoSchema, { domain: '', version: 21n }),
      create(OperatorSetIdProtoSchema, { domain: 'custom', version: 1n }),
    ],
    producerName: 'hand',
    producerVersion: '1',
    domain: 'test',
    modelVersion: 7n,
    docString: 'doc',
    metadataProps: [entry('a', '1')],
    graph,
    functions: [create(FunctionProtoSchema, { name: 'F', domain: 'custom', input: ['a'], output: ['b'] })],
  });
  return toBinary(ModelProtoSchema, model);
}

/** Semantic equality of protobuf messages: an unset proto2 field equals one set to its default. */
function same(a: unknown, b: unknown): void {
  expect(firstDifference(a, b)).toBeUndefined();
}

describe('round trip of protobuf features kept opaque', () => {
  it('treats an unset proto2 field as equal to one set to its default', () => {
    const unset = create(TypeProto_TensorSchema, {});
    const set = create(TypeProto_TensorSchema, { elemType: 0 });
    expect(firstDifference(unset, set)).toBeUndefined();
    expect(firstDifference(unset, create(TypeProto_TensorSchema, { elemType: 1 }))).toBe('elemType: 0 vs 1');
  });

  it('keeps denotations, metadata, typed data fields, doc strings, non-UTF-8 strings and functions', () => {
    const bytes = exoticModelBytes();
    const m1 = parseModel(bytes);
    const copy = serializeModel(m1);
    const m2 = parseModel(copy);
    expect(firstDifference(describeModel(m1), describeModel(m2))).toBeUndefined();
    // Semantics, checked on the protobufs themselves: the copy says what the original says.
    const a = fromBinary(ModelProtoSchema, bytes);
    const b = fromBinary(ModelProtoSchema, copy);
    const ga = a.graph!;
    const gb = b.graph!;
    same(gb.input[0]!.type!.value.value, ga.input[0]!.type!.value.value);
    same(gb.input[0]!.metadataProps, ga.input[0]!.metadataProps);
    expect(gb.initializer.find((t) => t.name === 'h')!.metadataProps).toEqual([
      expect.objectContaining({ key: 'k', value: 'v' }),
    ]);
    same(gb.sparseInitializer, ga.sparseInitializer);
    same(gb.metadataProps, ga.metadataProps);
    same(gb.valueInfo, ga.valueInfo);
    same(b.functions, a.functions);
    const attrs = (g: typeof ga) =>
      Object.fromEntries(g.node[0]!.attribute.map((x) => [x.name, toBinary(AttributeProtoSchema, x)]));
    expect(attrs(gb)).toEqual(attrs(ga));
    expect(gb.node[0]!.overload).toBe('v2');
    same(gb.node[0]!.metadataProps, ga.node[0]!.metadataProps);

    // typed fields become canonical raw bytes with the same values
    const init = (n: string) => m2.graph.initializers.get(n)!;
    expect(Array.from(toFloat32(init('b')))).toEqual([1, -2, 0.5]);
    expect(Array.from(init('i8').data)).toEqual([0xff, 127]);
    expect(Array.from(toFloat32(init('h')))).toEqual([1]);
    expect(Array.from(new BigInt64Array(init('i64').data.slice().buffer))).toEqual([-5n, 9n]);
    expect(Array.from(new Uint32Array(init('u32').data.slice().buffer))).toEqual([4000000000]);
    expect(Array.from(new Float64Array(init('d').data.slice().buffer))).toEqual([Math.PI]);
    expect(init('s').strings!.map((x) => Array.from(x))).toEqual([[0xff, 0], [0x61]]);
    expect(init('empty').data.byteLength).toBe(0);
    const x = m2.graph.inputs[0]!;
    expect(isTensorType(x.type)).toBe(false);
  });
});

describe('parseTensor', () => {
  it('decodes a TensorProto (the .pb files of ONNX test data)', () => {
    const bytes = toBinary(
      TensorProtoSchema,
      create(TensorProtoSchema, { name: 'x', dataType: 1, dims: [2n], floatData: [1.5, -3] }),
    );
    const t = parseTensor(Buffer.from(bytes));
    expect(t).toMatchObject({ name: 'x', dtype: 'float32', dims: [2] });
    expect(Array.from(toFloat32(t))).toEqual([1.5, -3]);
  });

  it('refuses external data and garbage with a model error', () => {
    const ext = create(TensorProtoSchema, {
      name: 'x',
      dataType: 1,
      dims: [1n],
      dataLocation: 1,
      externalData: [create(StringStringEntryProtoSchema, { key: 'location', value: 'w.bin' })],
    });
    expect(() => parseTensor(toBinary(TensorProtoSchema, ext))).toThrow(/tensor x: external data is not supported/);
    expect(() => parseTensor(Uint8Array.of(0x0a, 0xff))).toThrow(expect.objectContaining({ kind: 'model' }));
  });
});
