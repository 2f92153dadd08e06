// Bad input to the reader: every failure is a QuantlensError with a clear message, never a raw exception, and a
// tiny file cannot make the reader allocate what its dimensions claim.

import { create, toBinary } from '@bufbuild/protobuf';
import {
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  StringStringEntryProtoSchema,
  TensorProtoSchema,
  type TensorProto,
} from 'onnx-buf';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { QuantlensError } from '../../errors.js';
import { parseModel, readModel, serializeModel } from './index.js';
import { expectError } from '../../test-support/errors.js';

const root = mkdtempSync(join(tmpdir(), 'ql-read-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function file(name: string, content: Uint8Array | string): string {
  const path = join(root, name);
  writeFileSync(path, content);
  return path;
}

function modelWith(initializer: TensorProto[], nodes = 0): Uint8Array {
  const graph = create(GraphProtoSchema, {
    name: 'g',
    initializer,
    node: Array.from({ length: nodes }, (_, i) =>
      create(NodeProtoSchema, { opType: 'Identity', input: [`v${i}`], output: [`v${i + 1}`] }),
    ),
  });
  return toBinary(
    ModelProtoSchema,
    create(ModelProtoSchema, {
      irVersion: 8n,
      opsetImport: [create(OperatorSetIdProtoSchema, { version: 17n })],
      graph,
    }),
  );
}

describe('reading bad files', () => {
  it('a missing file', () =>
    expectError(() => readModel(join(root, 'nope.onnx')), /model file not found: .*nope\.onnx/, 'io'));

  it('a directory', () => {
    mkdirSync(join(root, 'dir.onnx'));
    expectError(() => readModel(join(root, 'dir.onnx')), /dir\.onnx is not a file/, 'io');
  });

  it('an empty file', () =>
    expectError(() => readModel(file('empty.onnx', '')), /empty\.onnx is not an ONNX model/, 'model'));

  it('a PNG', () => {
    const png = Uint8Array.from([
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1, 8, 6,
      0, 0, 0, 0x1f, 0x15, 0xc4, 0x89, 0, 0, 0, 10, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0, 1, 0, 0, 5, 0, 1, 0x0d,
      0x0a, 0x2d, 0xb4, 0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    ]);
    expectError(() => readModel(file('image.png', png)), /image\.png is not an ONNX model/, 'model');
  });

  it('a text file', () =>
    expectError(
      () => readModel(file('notes.onnx', 'hello, this is not a model\n')),
      /notes\.onnx is not an ONNX model/,
      'model',
    ));

  it('a JSON file', () =>
    expectError(() => readModel(file('model.json', '{"graph": {}}')), /is not an ONNX model/, 'model'));

  it('a truncated model: a typed error, or (where the cut falls between fields) a smaller model that still works', () => {
    const bytes = readFileSync('fixtures/tiny-deit-op17.onnx');
    const cuts = new Set<number>([1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987]);
    for (let i = 1; i < 48; i++) cuts.add(Math.floor((bytes.length * i) / 48));
    for (let i = 1; i <= 16; i++) cuts.add(bytes.length - i);
    let refused = 0;
    for (const cut of cuts) {
      const what = `cut at ${cut}`;
      let model;
      try {
        model = parseModel(bytes.subarray(0, cut), { what });
      } catch (e) {
        expect(e, what).toBeInstanceOf(QuantlensError);
        expect((e as QuantlensError).message, what).toContain(what);
        refused++;
        continue;
      }
      // Still a valid model (protobuf cannot tell a cut at a field boundary): using it must not crash.
      expect(() => serializeModel(model), what).not.toThrow();
    }
    expect(refused).toBeGreaterThan(cuts.size * 0.9);
    // A truncated file on disk is reported with its path.
    expectError(() => readModel(file('cut.onnx', bytes.subarray(0, 5000))), /cut\.onnx/, 'model');
  });
});

describe('size limits', () => {
  it('a tiny model whose tensor claims 100 GB fails fast without allocating', () => {
    const bytes = modelWith([create(TensorProtoSchema, { name: 'huge', dataType: 1, dims: [100_000n, 250_000n] })]);
    expect(bytes.length).toBeLessThan(100);
    const path = file('huge.onnx', bytes);
    const before = process.memoryUsage().arrayBuffers;
    const start = performance.now();
    expectError(
      () => readModel(path),
      /tensor huge: float32\[100000, 250000\] needs 100000000000 bytes, over the \d+-byte limit/,
      'limit',
    );
    expect(performance.now() - start).toBeLessThan(1000);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('the same claim through external data fails before touching any file', () => {
    const t = create(TensorProtoSchema, {
      name: 'huge',
      dataType: 1,
      dims: [100_000n, 250_000n],
      dataLocation: 1,
      externalData: [create(StringStringEntryProtoSchema, { key: 'location', value: 'does-not-exist.bin' })],
    });
    expectError(
      () => readModel(file('huge-ext.onnx', modelWith([t]))),
      /tensor huge: .* over the \d+-byte limit/,
      'limit',
    );
  });

  it('dimensions whose product overflows, and negative dimensions', () => {
    const big = create(TensorProtoSchema, { name: 'big', dataType: 7, dims: [2n ** 40n, 2n ** 40n, 2n ** 40n] });
    expectError(() => parseModel(modelWith([big])), /tensor big: .* over the \d+-byte limit/, 'limit');
    const neg = create(TensorProtoSchema, { name: 'neg', dataType: 1, dims: [-1n] });
    expectError(() => parseModel(modelWith([neg])), /tensor neg: invalid dimension -1/, 'model');
    const strings = create(TensorProtoSchema, { name: 'strs', dataType: 8, dims: [1_000_000_000n] });
    expectError(() => parseModel(modelWith([strings])), /tensor strs: 0 strings for 1000000000 elements/, 'model');
  });

  it('a tensor whose data does not fill its shape', () => {
    const t = create(TensorProtoSchema, { name: 'short', dataType: 1, dims: [4n], rawData: new Uint8Array(12) });
    expectError(
      () => parseModel(modelWith([t])),
      /tensor short: 12 bytes of data, 16 expected for float32\[4\]/,
      'model',
    );
    const typed = create(TensorProtoSchema, { name: 'typed', dataType: 1, dims: [4n], floatData: [1, 2] });
    expectError(() => parseModel(modelWith([typed])), /tensor typed: 8 bytes of data, 16 expected/, 'model');
    const unknown = create(TensorProtoSchema, { name: 'odd', dataType: 99, dims: [1n] });
    expectError(() => parseModel(modelWith([unknown])), /tensor odd: unknown data type 99/, 'model');
  });

  it('configurable limits on tensor bytes, node count and file size', () => {
    const t = create(TensorProtoSchema, { name: 'w', dataType: 1, dims: [256n], rawData: new Uint8Array(1024) });
    expectError(
      () => parseModel(modelWith([t]), { limits: { maxTensorBytes: 1000 } }),
      /tensor w: .*over the 1000-byte limit/,
      'limit',
    );
    expect(parseModel(modelWith([t]), { limits: { maxTensorBytes: 1024 } }).graph.initializers.size).toBe(1);
    expectError(() => parseModel(modelWith([], 11), { limits: { maxNodes: 10 } }), /more than 10 nodes/, 'limit');
    expect(parseModel(modelWith([], 10), { limits: { maxNodes: 10 } }).graph.nodes).toHaveLength(10);
    expectError(
      () => readModel('fixtures/tiny-deit-op17.onnx', { limits: { maxFileBytes: 1000 } }),
      /over the 1000-byte limit/,
      'limit',
    );
  });
});
