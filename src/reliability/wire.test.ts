// The fuzzer's own footing: the wire tree reproduces every seed file byte for byte (so a structured mutation
// changes only what it means to), and a (seed, case) pair always names the same mutated bytes.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixturePath } from '../test-support/fixtures.js';
import { caseSeed, makeSeed, mutateData, mutateModel, Rng } from './mutate.js';
import { encodeVarint, parseWire, serializeWire } from './wire.js';

const FILES = ['tiny-deit-op17.onnx', 'tiny-unet-op13.onnx', 'tiny-deit-ext/model.onnx'];

describe('wire tree', () => {
  it('re-serializes each seed file byte for byte, with nested messages found', () => {
    for (const f of FILES) {
      const bytes = new Uint8Array(readFileSync(fixturePath(f)));
      const tree = parseWire(bytes)!;
      expect(Buffer.from(serializeWire(tree)).equals(Buffer.from(bytes)), f).toBe(true);
      const seed = makeSeed(bytes);
      expect(seed.nodes.length, f).toBeGreaterThan(20);
      expect(seed.initializers.length, f).toBeGreaterThan(5);
      expect(seed.boundaries.length, f).toBeGreaterThan(1000);
    }
  });

  it('encodes varints as protobuf does, negatives as ten bytes', () => {
    expect([...encodeVarint(0n)]).toEqual([0]);
    expect([...encodeVarint(300n)]).toEqual([0xac, 0x02]);
    expect(encodeVarint(-1n).length).toBe(10);
    expect(parseWire(Uint8Array.of(0x08, 0x96, 0x01))).toEqual([{ num: 1, wire: 0, value: 150n }]);
    expect(parseWire(Uint8Array.of(0x0a, 0x05, 0x01))).toBeUndefined(); // length past the end
  });
});

describe('mutators', () => {
  it('are deterministic per (seed, case) and differ across cases', () => {
    const seed = makeSeed(new Uint8Array(readFileSync(fixturePath('tiny-deit-op17.onnx'))));
    const run = (i: number) => mutateModel(seed, new Rng(caseSeed(7, i)));
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const [a, b] = [run(i), run(i)];
      expect(a.steps).toEqual(b.steps);
      expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
      expect(a.steps.length).toBeGreaterThan(0);
      seen.add(a.steps.join('|'));
    }
    expect(seen.size).toBeGreaterThan(35);
    const data = new Uint8Array(4096);
    expect(mutateData(data, new Rng(1)).bytes).toEqual(mutateData(data, new Rng(1)).bytes);
  });
});
