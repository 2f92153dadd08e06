// External data: written and read back with the same outputs, and every path trick of the ONNX library's CVEs
// refused with a model error naming the tensor (absolute, `..`, symlinks out, hardlinks, bad ranges, missing file).

import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, StringStringEntryProtoSchema } from 'onnx-buf';
import {
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { QuantlensError } from '../../errors.js';
import { Session } from '../../runtime/session.js';
import type { HostTensor } from '../../util/host-tensor.js';
import { describeModel, firstDifference } from '../compare.js';
import { GraphBuilder, makeModel } from '../builder.js';
import type { Model } from '../ir.js';
import { parseModel, readModel, serializeModel, writeModel } from './index.js';

const root = mkdtempSync(join(tmpdir(), 'ql-ext-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;

/** x[1,4] @ w[4,300] + bias[300], times a small inline scalar: two tensors go external, one stays inline. */
function linearModel(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [1, 4]);
  const w = b.init(
    'w',
    Float32Array.from({ length: 1200 }, (_, i) => Math.sin(i)),
    [4, 300],
  );
  const bias = b.init(
    'bias',
    Float32Array.from({ length: 300 }, (_, i) => i / 300),
    [300],
  );
  const k = b.init('k', Float32Array.of(2), [1]);
  const y = b.op('Mul', [b.op('Add', [b.op('MatMul', [x, w]), bias]), k]);
  b.output(y, 'float32', [1, 300]);
  return makeModel(b.graph);
}

const feeds: Record<string, HostTensor> = {
  x: { dtype: 'float32', dims: [1, 4], data: Float32Array.of(0.5, -1, 2, 0.25) },
};

async function outputBytes(model: Model, input = feeds): Promise<Buffer[]> {
  const s = await Session.create(model, { threads: 1 });
  try {
    const out = await s.run(input);
    return Object.values(out).map((t) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  } finally {
    await s.release();
  }
}

/** A fresh folder holding model.onnx + weights.bin, and a folder beside it with a copy of the weights. */
function setup(): { dir: string; outside: string; model: string } {
  const base = join(root, `case${counter++}`);
  const dir = join(base, 'model');
  const outside = join(base, 'outside');
  mkdirSync(dir, { recursive: true });
  mkdirSync(outside);
  const model = join(dir, 'model.onnx');
  writeModel(linearModel(), model, { externalData: { location: 'weights.bin' } });
  copyFileSync(join(dir, 'weights.bin'), join(outside, 'weights.bin'));
  return { dir, outside, model };
}

/** Rewrite the external-data entries of initializer `tensor` in the model file (undefined removes an entry). */
function patchExternal(path: string, tensor: string, entries: Record<string, string | undefined>): void {
  const proto = fromBinary(ModelProtoSchema, readFileSync(path));
  const t = proto.graph!.initializer.find((i) => i.name === tensor)!;
  const merged: Record<string, string | undefined> = {
    ...Object.fromEntries(t.externalData.map((e) => [e.key, e.value])),
    ...entries,
  };
  t.externalData = Object.entries(merged)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([key, value]) => create(StringStringEntryProtoSchema, { key, value }));
  writeFileSync(path, toBinary(ModelProtoSchema, proto));
}

function refusal(path: string): QuantlensError {
  try {
    readModel(path);
  } catch (e) {
    if (e instanceof QuantlensError) return e;
    throw new Error(`expected a QuantlensError, got ${String(e)}`, { cause: e });
  }
  throw new Error('expected the read to be refused, it succeeded');
}

function expectRefused(path: string, tensor: string, problem: RegExp): void {
  const e = refusal(path);
  expect(e.kind).toBe('model');
  expect(e.message).toContain(`tensor ${tensor}:`);
  expect(e.message).toMatch(problem);
}

describe('writing and reading external data', () => {
  it('writes large initializers to one aligned file, reads them back, and runs the same', async () => {
    const original = linearModel();
    const expected = await outputBytes(original);
    const { dir, model } = setup();
    const back = readModel(model);
    expect(statSync(model).size).toBeLessThan(1024);
    expect(back.graph.initializers.get('w')!.external).toEqual({ location: 'weights.bin', offset: 0, length: 4800 });
    expect(back.graph.initializers.get('bias')!.external).toEqual({
      location: 'weights.bin',
      offset: 8192,
      length: 1200,
    });
    expect(back.graph.initializers.get('k')!.external).toBeUndefined();
    expect(statSync(join(dir, 'weights.bin')).size).toBe(8192 + 1200);
    const inMemory = parseModel(serializeModel(linearModel()));
    expect(firstDifference(describeModel(inMemory), describeModel(back))).toBeUndefined();
    // serializeModel inlines everything: what ORT gets in memory needs no files.
    const inline = parseModel(serializeModel(back));
    expect([...inline.graph.initializers.values()].every((t) => t.external === undefined)).toBe(true);
    expect(await outputBytes(back)).toEqual(expected);
  });

  it('names the data file after the model and its content by default and keeps small tensors inline', () => {
    const dir = join(root, `case${counter++}`);
    mkdirSync(dir);
    writeModel(linearModel(), join(dir, 'm.onnx'), { externalData: { threshold: 2000 } });
    const back = readModel(join(dir, 'm.onnx'));
    const location = back.graph.initializers.get('w')!.external?.location ?? '';
    expect(location).toMatch(/^m\.onnx\.[0-9a-f]{16}\.data$/);
    expect(back.graph.initializers.get('bias')!.external).toBeUndefined();
    expect(statSync(join(dir, location)).size).toBe(4800);
    // The same content gives the same name: rewriting is deterministic.
    writeModel(linearModel(), join(dir, 'm.onnx'), { externalData: { threshold: 2000 } });
    expect(readModel(join(dir, 'm.onnx')).graph.initializers.get('w')!.external?.location).toBe(location);
    // Written inline over it, the model no longer uses the data file, which goes.
    writeModel(linearModel(), join(dir, 'm.onnx'));
    expect(readdirSync(dir)).toEqual(['m.onnx']);
  });

  it('a write killed between the data and the model rename leaves the old model whole, with its own data', async () => {
    const dir = join(root, `case${counter++}`);
    mkdirSync(dir);
    const path = join(dir, 'm.onnx');
    writeModel(linearModel(), path, { externalData: {} });
    const oldOutputs = await outputBytes(readModel(path));
    const oldFiles = readdirSync(dir).sort();
    // What the killed write got done: the new data file, renamed into place; the model rename never happened.
    const changed = linearModel();
    changed.graph.initializers.get('w')!.data = new Uint8Array(new Float32Array(1200).fill(7).buffer);
    const scratch = join(dir, 'scratch');
    mkdirSync(scratch);
    writeModel(changed, join(scratch, 'm.onnx'), { externalData: {} });
    const newData = readdirSync(scratch).find((n) => n.endsWith('.data'))!;
    expect(oldFiles).not.toContain(newData);
    copyFileSync(join(scratch, newData), join(dir, newData));
    expect(await outputBytes(readModel(path))).toEqual(oldOutputs);
    // The next complete write replaces both and removes the data files it superseded, and only those.
    writeFileSync(join(dir, 'm.onnx.notes.data'), 'user file');
    writeModel(changed, path, { externalData: {} });
    expect(readdirSync(dir).sort()).toEqual(['m.onnx', 'm.onnx.notes.data', newData, 'scratch'].sort());
    expect(await outputBytes(readModel(path))).not.toEqual(oldOutputs);
  });

  it('accepts a symlink that stays inside the model folder, and a model folder reached through a symlink', async () => {
    const { dir, model } = setup();
    mkdirSync(join(dir, 'data'));
    copyFileSync(join(dir, 'weights.bin'), join(dir, 'data', 'real.bin'));
    unlinkSync(join(dir, 'weights.bin'));
    symlinkSync('data/real.bin', join(dir, 'weights.bin'));
    const viaLink = join(dir, '..', 'link-to-model');
    symlinkSync(dir, viaLink);
    expect(await outputBytes(readModel(join(viaLink, 'model.onnx')))).toEqual(await outputBytes(readModel(model)));
  });

  it('refuses to write data outside the model folder or over the model itself', () => {
    const dir = join(root, `case${counter++}`);
    mkdirSync(dir);
    const path = join(dir, 'm.onnx');
    for (const location of ['../w.bin', '/tmp/w.bin', 'a/../../w.bin'])
      expect(() => writeModel(linearModel(), path, { externalData: { location } })).toThrow(QuantlensError);
    expect(() => writeModel(linearModel(), path, { externalData: { location: 'm.onnx' } })).toThrow(
      /the model file itself/,
    );
    expect(existsSync(path)).toBe(false);
    expect(existsSync(join(root, 'w.bin'))).toBe(false);
  });

  const deitExt = 'fixtures/tiny-deit-ext/model.onnx';
  it.skipIf(!existsSync(deitExt))(
    'reads the torch-exported tiny-deit-ext and computes what tiny-deit-op17 computes',
    async () => {
      const ext = readModel(deitExt);
      const inline = readModel('fixtures/tiny-deit-op17.onnx');
      const externals = [...ext.graph.initializers.values()].filter((t) => t.external !== undefined);
      expect(externals.length).toBeGreaterThan(0);
      for (const t of inline.graph.initializers.values())
        expect(Buffer.from(ext.graph.initializers.get(t.name)!.data).equals(Buffer.from(t.data))).toBe(true);
      const ref = JSON.parse(readFileSync('fixtures/tiny-deit-op17.ref.json', 'utf8')) as {
        inputs: { pixel_values: { shape: number[]; data: string } };
      };
      const px = Uint8Array.from(Buffer.from(ref.inputs.pixel_values.data, 'base64'));
      const input = {
        pixel_values: {
          dtype: 'float32' as const,
          dims: ref.inputs.pixel_values.shape,
          data: new Float32Array(px.buffer),
        },
      };
      expect(await outputBytes(ext, input)).toEqual(await outputBytes(inline, input));
    },
  );
});

describe('refusing external data that leaves the model folder', () => {
  it.each([
    ['an absolute location', (o: string) => join(o, 'weights.bin'), /must be a relative path/],
    ['a Windows drive path', () => 'C:\\weights.bin', /must be a relative path/],
    ['a UNC path', () => '\\\\server\\share\\weights.bin', /must be a relative path/],
    ['../x', () => '../outside/weights.bin', /contains "\.\."/],
    ['a/../../x', () => 'a/../../outside/weights.bin', /contains "\.\."/],
    ['.. that stays inside', () => 'sub/../weights.bin', /contains "\.\."/],
    ['..\\x', () => '..\\outside\\weights.bin', /contains "\.\."/],
    ['an empty location', () => '', /must be a relative path/],
    ['a NUL byte', () => 'weights.bin\0.png', /NUL byte/],
  ])('%s', (_what, location, problem) => {
    const { model, outside } = setup();
    patchExternal(model, 'w', { location: location(outside) });
    expectRefused(model, 'w', problem);
  });

  it('a final symlink leading outside', () => {
    const { dir, model, outside } = setup();
    unlinkSync(join(dir, 'weights.bin'));
    symlinkSync(join(outside, 'weights.bin'), join(dir, 'weights.bin'));
    expectRefused(model, 'w', /resolves outside the model folder/);
  });

  it('a relative final symlink leading outside', () => {
    const { dir, model } = setup();
    unlinkSync(join(dir, 'weights.bin'));
    symlinkSync('../outside/weights.bin', join(dir, 'weights.bin'));
    expectRefused(model, 'w', /resolves outside the model folder/);
  });

  it('a parent-directory symlink leading outside', () => {
    const { dir, model, outside } = setup();
    symlinkSync(outside, join(dir, 'sub'));
    patchExternal(model, 'w', { location: 'sub/weights.bin' });
    expectRefused(model, 'w', /resolves outside the model folder/);
  });

  it('a hardlink to a file outside', () => {
    const { dir, model, outside } = setup();
    unlinkSync(join(dir, 'weights.bin'));
    linkSync(join(outside, 'weights.bin'), join(dir, 'weights.bin'));
    expectRefused(model, 'w', /hardlink \(2 names\)/);
  });

  it('a location that is a folder', () => {
    const { dir, model } = setup();
    mkdirSync(join(dir, 'folder'));
    patchExternal(model, 'w', { location: 'folder' });
    expectRefused(model, 'w', /not a regular file/);
  });

  it('offset + length past the end of the file', () => {
    const { model } = setup();
    patchExternal(model, 'bias', { offset: String(8192 + 100) });
    expectRefused(model, 'bias', /range 8292\+1200 runs past the end of "weights.bin" \(9392 bytes\)/);
  });

  it('tensors that overlap, multiplying one file into more memory than it holds', () => {
    const { model } = setup();
    // bias now reads w's bytes again, through another spelling of the same file
    patchExternal(model, 'bias', { location: './weights.bin', offset: '0', length: undefined });
    const proto = fromBinary(ModelProtoSchema, readFileSync(model));
    proto.graph!.initializer.find((i) => i.name === 'bias')!.dims = [1200n];
    writeFileSync(model, toBinary(ModelProtoSchema, proto));
    expectRefused(model, 'bias', /overlaps other tensors \(9600 bytes read from a 9392-byte file\)/);
  });

  it('a length that does not match the shape', () => {
    const { model } = setup();
    patchExternal(model, 'w', { length: '4796' });
    expectRefused(model, 'w', /external length 4796 does not match 4800 bytes/);
  });

  it.each([['-1'], ['1e3'], ['0x10'], ['99999999999999999999']])(
    'an offset that is not a byte count (%s)',
    (offset) => {
      const { model } = setup();
      patchExternal(model, 'w', { offset });
      expectRefused(model, 'w', /offset .* is not a valid byte count/);
    },
  );

  it('no location at all', () => {
    const { model } = setup();
    patchExternal(model, 'w', { location: undefined });
    expectRefused(model, 'w', /external data without a location/);
  });

  it('a missing external file', () => {
    const { dir, model } = setup();
    unlinkSync(join(dir, 'weights.bin'));
    expectRefused(model, 'w', /external data file "weights.bin" not found/);
  });

  it('external data in a model given as bytes (no folder to resolve in)', () => {
    const { model } = setup();
    const e = (() => {
      try {
        parseModel(readFileSync(model));
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(QuantlensError);
    expect((e as QuantlensError).message).toMatch(/tensor w: external data is not available for an in-memory model/);
  });
});
