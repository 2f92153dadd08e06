// Writing never follows a symlink planted at the target and never leaves a half-written or temporary file.

import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { QuantlensError } from '../../errors.js';
import { GraphBuilder, makeModel } from '../builder.js';
import type { Model } from '../ir.js';
import { readModel, serializeModel, writeModel } from './index.js';

const root = mkdtempSync(join(tmpdir(), 'ql-write-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;

function folder(): string {
  const dir = join(root, `case${counter++}`);
  mkdirSync(dir);
  return dir;
}

function model(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', [2, 512]);
  const w = b.init(
    'w',
    Float32Array.from({ length: 512 }, (_, i) => i),
    [512],
  );
  b.output(b.op('Add', [x, w]), 'float32', [2, 512]);
  return makeModel(b.graph);
}

function tempFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.tmp'));
}

describe('writeModel', () => {
  it('replaces a symlink planted at the target instead of writing through it', () => {
    const dir = folder();
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'precious');
    const target = join(dir, 'out', 'model.onnx');
    mkdirSync(join(dir, 'out'));
    symlinkSync(victim, target);
    writeModel(model(), target);
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(lstatSync(target).isFile()).toBe(true);
    expect(readModel(target).graph.initializers.get('w')!.dims).toEqual([512]);
  });

  it('does the same for the external data file', () => {
    const dir = folder();
    const victim = join(dir, 'victim.bin');
    writeFileSync(victim, 'precious');
    mkdirSync(join(dir, 'out'));
    symlinkSync(victim, join(dir, 'out', 'weights.bin'));
    writeModel(model(), join(dir, 'out', 'model.onnx'), { externalData: { location: 'weights.bin' } });
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(lstatSync(join(dir, 'out', 'weights.bin')).isFile()).toBe(true);
    expect(readModel(join(dir, 'out', 'model.onnx')).graph.initializers.get('w')!.external?.location).toBe(
      'weights.bin',
    );
  });

  it('fails with an io error into a missing folder and leaves nothing behind', () => {
    const dir = folder();
    const err = (() => {
      try {
        writeModel(model(), join(dir, 'missing', 'model.onnx'));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(QuantlensError);
    expect((err as QuantlensError).kind).toBe('io');
    expect((err as QuantlensError).message).toContain(join(dir, 'missing', 'model.onnx'));
    expect(readdirSync(dir)).toEqual([]);
  });

  it('removes its temporary file when the final rename fails (target is a folder)', () => {
    const dir = folder();
    mkdirSync(join(dir, 'model.onnx'));
    writeFileSync(join(dir, 'model.onnx', 'keep'), 'x');
    expect(() => writeModel(model(), join(dir, 'model.onnx'))).toThrow(expect.objectContaining({ kind: 'io' }));
    expect(tempFiles(dir)).toEqual([]);
    expect(readdirSync(join(dir, 'model.onnx'))).toEqual(['keep']);
  });

  it('keeps the old file whole when writing the new one fails', () => {
    const dir = folder();
    const target = join(dir, 'model.onnx');
    writeModel(model(), target);
    const before = readFileSync(target);
    // The external data goes to a sub-folder that does not exist: the write fails before the model is touched.
    expect(() => writeModel(model(), target, { externalData: { location: 'nowhere/w.bin', threshold: 0 } })).toThrow(
      expect.objectContaining({ kind: 'io' }),
    );
    expect(readFileSync(target).equals(before)).toBe(true);
    expect(tempFiles(dir)).toEqual([]);
  });

  it('writes what serializeModel gives, so a written file reads back byte-identical when rewritten', () => {
    const dir = folder();
    const m = model();
    writeModel(m, join(dir, 'a.onnx'));
    expect(Buffer.from(serializeModel(m)).equals(readFileSync(join(dir, 'a.onnx')))).toBe(true);
    writeModel(readModel(join(dir, 'a.onnx')), join(dir, 'b.onnx'));
    expect(readFileSync(join(dir, 'b.onnx')).equals(readFileSync(join(dir, 'a.onnx')))).toBe(true);
    expect(existsSync(join(dir, 'a.onnx.data'))).toBe(false);
  });
});
