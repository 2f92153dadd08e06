// Shared pieces of the mutators: the seeded generator, a seed file parsed once (wire tree, ONNX structure, field
// boundaries, names), the interesting values, and helpers to pick and edit fields of the tree. Imports wire.ts and
// the data module's generator only.

import { mulberry32 } from '../data/calib.js';
import { editMessage, fieldAt, indexWire, parseWire, type Boundary, type WireField, type WirePath } from './wire.js';

export class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  /** integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** Mixes a seed and a case number into one 32-bit seed (splitmix-style), so nearby cases are unrelated. */
export function caseSeed(seed: number, index: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** A file parsed once for structured mutation. */
export interface Seed {
  bytes: Uint8Array;
  tree: WireField[];
  messages: WirePath[];
  leaves: WirePath[];
  /** field start/end offsets, for truncation */
  boundaries: Boundary[];
  /** leaf payloads that look like names (short, printable): references to swap in */
  names: Uint8Array[];
  /** ONNX structure (by field number): graph nodes, node attributes, initializers */
  nodes: WirePath[];
  attributes: WirePath[];
  initializers: WirePath[];
}

// ONNX field numbers the targeted mutations use (onnx.proto).
export const F = {
  modelGraph: 7,
  graphNode: 1,
  graphInitializer: 5,
  nodeInput: 1,
  nodeOutput: 2,
  nodeOpType: 4,
  nodeAttribute: 5,
  attrType: 20,
  tensorDims: 1,
  tensorDataType: 2,
  tensorRawData: 9,
} as const;

export const printable = (b: Uint8Array) => b.length > 0 && b.length <= 200 && b.every((c) => c >= 0x20 && c < 0x7f);

export function makeSeed(bytes: Uint8Array): Seed {
  const boundaries: Boundary[] = [];
  const tree = parseWire(bytes, 0, 0, boundaries);
  if (tree === undefined) throw new Error('seed file is not protobuf');
  const { messages, leaves } = indexWire(tree);
  const names: Uint8Array[] = [];
  for (const p of leaves) {
    const f = fieldAt(tree, p)!;
    if (f.wire === 2 && printable(f.value as Uint8Array)) names.push(f.value as Uint8Array);
  }
  const nodes: WirePath[] = [];
  const attributes: WirePath[] = [];
  const initializers: WirePath[] = [];
  tree.forEach((g, gi) => {
    if (g.num !== F.modelGraph || g.children === undefined) return;
    g.children.forEach((f, i) => {
      if (f.children === undefined) return;
      if (f.num === F.graphInitializer) initializers.push([gi, i]);
      if (f.num !== F.graphNode) return;
      nodes.push([gi, i]);
      f.children.forEach((a, j) => {
        if (a.num === F.nodeAttribute && a.children !== undefined) attributes.push([gi, i, j]);
      });
    });
  });
  return { bytes, tree, messages, leaves, boundaries, names, nodes, attributes, initializers };
}

export const VARINTS: readonly bigint[] = [
  0n,
  1n,
  2n,
  3n,
  4n,
  7n,
  8n,
  11n,
  13n,
  16n,
  21n,
  127n,
  128n,
  255n,
  65536n,
  2n ** 31n - 1n,
  2n ** 31n,
  2n ** 32n,
  2n ** 53n + 1n,
  2n ** 63n - 1n,
  2n ** 63n,
  2n ** 64n - 1n,
  2n ** 64n - 2n,
];

export const enc = new TextEncoder();
export const STRINGS: readonly Uint8Array[] = [
  '',
  '.',
  '..',
  '/',
  '/etc/passwd',
  '../weights.bin',
  'a/../../x',
  'sub/../weights.bin',
  'C:\\windows\\x',
  '\\\\server\\share\\x',
  'weights.bin\0.txt',
  'line one\nline two',
  '\x1b[31mred\x1b[0m',
  '-1',
  '1e3',
  '0x10',
  ' 12',
  '18446744073709551616',
  '9007199254740993',
  'A'.repeat(5000),
  '<script>alert(1)</script>',
].map((s) => enc.encode(s));
export const BAD_UTF8 = Uint8Array.of(0xff, 0xfe, 0x00, 0xc3);

export const OP_TYPES = [
  'Gemm',
  'MatMul',
  'Conv',
  'ConvTranspose',
  'Identity',
  'LayerNormalization',
  'Softmax',
  'Add',
  'Concat',
  'Reshape',
  'QuantizeLinear',
  'DequantizeLinear',
  'If',
  'NoSuchOp',
  '',
].map((s) => enc.encode(s));

export const BYTES = [
  0x00, 0x01, 0x02, 0x07, 0x08, 0x0a, 0x10, 0x12, 0x1a, 0x22, 0x3a, 0x42, 0x7f, 0x80, 0x81, 0xfe, 0xff,
];

export const FLOATS: readonly number[] = [NaN, Infinity, -Infinity, 3.4e38, -3.4e38, 1e-45, -0, 0, 1e30];

export function floatBytes(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, v, true);
  return b;
}

export function interestingVarint(rng: Rng, old: bigint): bigint {
  switch (rng.int(4)) {
    case 0:
      return old + 1n;
    case 1:
      return old > 0n ? old - 1n : 2n ** 64n - 1n;
    case 2:
      return old << BigInt(1 + rng.int(40));
    default:
      return rng.pick(VARINTS);
  }
}

/** A structured mutation: (seed, current tree) -> a new tree and a short description, or undefined (no target). */
export type Structured = (s: Seed, tree: WireField[], rng: Rng) => [WireField[], string] | undefined;

export const pathText = (p: WirePath) => p.join('.');

export function randomMessage(tree: WireField[], s: Seed, rng: Rng): WirePath | undefined {
  // Paths come from the unmutated seed; a previous mutation may have removed a message, so check it is still one.
  for (let tries = 0; tries < 8; tries++) {
    const p = rng.pick(s.messages);
    if (p.length === 0 || fieldAt(tree, p)?.children !== undefined) return p;
  }
  return undefined;
}

export function randomLeaf(tree: WireField[], s: Seed, rng: Rng, ok: (f: WireField) => boolean): WirePath | undefined {
  for (let tries = 0; tries < 32; tries++) {
    const p = rng.pick(s.leaves);
    const f = fieldAt(tree, p);
    if (f !== undefined && f.children === undefined && ok(f)) return p;
  }
  return undefined;
}

/** Edits a message found by ONNX structure (a node, an attribute, an initializer), if the tree still has it. */
export function editAt(
  tree: WireField[],
  candidates: readonly WirePath[],
  rng: Rng,
  edit: (c: WireField[]) => string | undefined,
): [WireField[], string] | undefined {
  if (candidates.length === 0) return undefined;
  const p = rng.pick(candidates);
  if (fieldAt(tree, p)?.children === undefined) return undefined;
  let what: string | undefined;
  const out = editMessage(tree, p, (c) => {
    what = edit(c);
    return c;
  });
  return what === undefined ? undefined : [out, `${what} at ${pathText(p)}`];
}

export const str = (num: number, value: Uint8Array): WireField => ({ num, wire: 2, value });
