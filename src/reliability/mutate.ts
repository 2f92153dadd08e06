// Seeded mutators for ONNX files. Raw ones work on bytes (bit flips, interesting bytes, varints written over a
// tag or a length, chunk duplication and deletion, truncation at field boundaries); structured ones work on the
// wire tree of wire.ts (delete, duplicate, swap or graft fields, interesting varints, strings, floats and payload
// sizes) and re-serialize with consistent lengths, so the result still decodes and reaches the IR and the passes.
// Every choice comes from the Rng passed in: a (seed, case) pair names the same mutated file on every machine.

import { childrenAt, editMessage, encodeVarint, fieldAt, replaceField, serializeWire } from './wire.js';
import {
  BAD_UTF8,
  BYTES,
  FLOATS,
  floatBytes,
  interestingVarint,
  pathText,
  randomLeaf,
  randomMessage,
  Rng,
  STRINGS,
  VARINTS,
  type Seed,
  type Structured,
} from './mutate-common.js';
import { onnxMutations } from './mutate-onnx.js';

export { caseSeed, makeSeed, Rng, type Seed } from './mutate-common.js';

const structured: Record<string, Structured> = {
  delete(s, tree, rng) {
    const m = randomMessage(tree, s, rng);
    if (m === undefined) return undefined;
    const n = childrenAt(tree, m).length;
    if (n === 0) return undefined;
    const i = rng.int(n);
    return [
      editMessage(tree, m, (c) => {
        c.splice(i, 1);
        return c;
      }),
      `delete ${pathText([...m, i])}`,
    ];
  },
  duplicate(s, tree, rng) {
    const m = randomMessage(tree, s, rng);
    if (m === undefined) return undefined;
    const n = childrenAt(tree, m).length;
    if (n === 0) return undefined;
    const i = rng.int(n);
    const at = rng.int(n + 1);
    return [
      editMessage(tree, m, (c) => {
        c.splice(at, 0, c[i]!);
        return c;
      }),
      `duplicate ${pathText([...m, i])} to ${at}`,
    ];
  },
  swap(s, tree, rng) {
    const m = randomMessage(tree, s, rng);
    if (m === undefined) return undefined;
    const n = childrenAt(tree, m).length;
    if (n < 2) return undefined;
    const i = rng.int(n);
    const j = rng.int(n);
    return [
      editMessage(tree, m, (c) => {
        [c[i], c[j]] = [c[j]!, c[i]!];
        return c;
      }),
      `swap ${pathText(m)}[${i}, ${j}]`,
    ];
  },
  graft(s, tree, rng) {
    // A field from anywhere, into any message: type confusion (an initializer where a node input was).
    const m = randomMessage(tree, s, rng);
    const from = rng.pick([...s.leaves, ...s.messages.filter((p) => p.length > 0)]);
    const f = fieldAt(tree, from);
    if (m === undefined || f === undefined) return undefined;
    const at = rng.int(childrenAt(tree, m).length + 1);
    return [
      editMessage(tree, m, (c) => {
        c.splice(at, 0, f);
        return c;
      }),
      `graft ${pathText(from)} into ${pathText(m)}`,
    ];
  },
  renumber(s, tree, rng) {
    const m = randomMessage(tree, s, rng);
    if (m === undefined) return undefined;
    const n = childrenAt(tree, m).length;
    if (n === 0) return undefined;
    const i = rng.int(n);
    const num = 1 + rng.int(24);
    return [
      editMessage(tree, m, (c) => {
        c[i] = { ...c[i]!, num };
        return c;
      }),
      `renumber ${pathText([...m, i])} to ${num}`,
    ];
  },
  varint(s, tree, rng) {
    const p = randomLeaf(tree, s, rng, (f) => f.wire === 0);
    if (p === undefined) return undefined;
    const f = fieldAt(tree, p)!;
    const v = interestingVarint(rng, f.value as bigint);
    return [replaceField(tree, p, { ...f, value: v }), `varint ${pathText(p)} ${String(f.value)} -> ${v}`];
  },
  string(s, tree, rng) {
    const p = randomLeaf(tree, s, rng, (f) => f.wire === 2);
    if (p === undefined) return undefined;
    const f = fieldAt(tree, p)!;
    const old = f.value as Uint8Array;
    let value: Uint8Array;
    let what: string;
    switch (rng.int(4)) {
      case 0:
        value = rng.pick(s.names);
        what = 'another name';
        break;
      case 1:
        value = old.length > 0 ? Uint8Array.from(old, (b, i) => (i === old.length - 1 ? b ^ 1 : b)) : BAD_UTF8;
        what = 'last byte changed';
        break;
      case 2:
        value = BAD_UTF8;
        what = 'bad UTF-8';
        break;
      default: {
        const i = rng.int(STRINGS.length);
        value = STRINGS[i]!;
        what = `string #${i}`;
      }
    }
    return [replaceField(tree, p, { ...f, value }), `string ${pathText(p)} (${what})`];
  },
  float(s, tree, rng) {
    // A special float in a fixed32 field (attributes) or in a 4-aligned slot of a payload (raw tensor data).
    const p = randomLeaf(tree, s, rng, (f) => f.wire === 5 || (f.wire === 2 && (f.value as Uint8Array).length >= 4));
    if (p === undefined) return undefined;
    const f = fieldAt(tree, p)!;
    const v = rng.pick(FLOATS);
    const value = Uint8Array.from(f.value as Uint8Array);
    const slot = f.wire === 5 ? 0 : 4 * rng.int(Math.floor(value.length / 4));
    value.set(floatBytes(v), slot);
    return [replaceField(tree, p, { ...f, value }), `float ${pathText(p)}@${slot} = ${v}`];
  },
  resize(s, tree, rng) {
    // A payload a few bytes shorter or longer than its tensor's shape needs.
    const p = randomLeaf(tree, s, rng, (f) => f.wire === 2 && (f.value as Uint8Array).length > 0);
    if (p === undefined) return undefined;
    const f = fieldAt(tree, p)!;
    const old = f.value as Uint8Array;
    const delta = rng.pick([-4, -1, 1, 4, 4096]);
    const value = new Uint8Array(Math.max(0, old.length + delta));
    value.set(old.subarray(0, Math.min(old.length, value.length)));
    return [replaceField(tree, p, { ...f, value }), `resize ${pathText(p)} by ${delta}`];
  },
};

Object.assign(structured, onnxMutations);

// ---- raw mutations: bytes -> bytes ----

type Raw = (s: Seed | undefined, b: Uint8Array, rng: Rng) => [Uint8Array, string];

function splice(b: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length - remove + insert.length);
  out.set(b.subarray(0, at));
  out.set(insert, at);
  out.set(b.subarray(at + remove), at + insert.length);
  return out;
}

function truncationPoint(s: Seed | undefined, b: Uint8Array, rng: Rng): number {
  // Mostly at (or next to) a field boundary: that is where a cut can still leave a decodable prefix.
  const marks = s?.boundaries.filter((m) => m.offset < b.length) ?? [];
  if (marks.length > 0 && rng.chance(0.75)) return Math.max(0, rng.pick(marks).offset + rng.pick([0, 0, 1, -1]));
  return rng.int(b.length);
}

const raw: Record<string, Raw> = {
  bitflip(_s, b, rng) {
    const out = Uint8Array.from(b);
    const n = 1 + rng.int(8);
    const at: number[] = [];
    for (let k = 0; k < n && out.length > 0; k++) {
      const bit = rng.int(out.length * 8);
      out[bit >> 3]! ^= 1 << (bit & 7);
      at.push(bit);
    }
    return [out, `bitflip ${at.join(',')}`];
  },
  byte(_s, b, rng) {
    const out = Uint8Array.from(b);
    const n = 1 + rng.int(4);
    const at: number[] = [];
    for (let k = 0; k < n && out.length > 0; k++) {
      const i = rng.int(out.length);
      out[i] = rng.pick(BYTES);
      at.push(i);
    }
    return [out, `byte ${at.join(',')}`];
  },
  'varint-raw'(s, b, rng) {
    // Overwrite a tag or a length prefix (at a field boundary) with an interesting varint, shifting what follows.
    const at = truncationPoint(s, b, rng);
    const old = Math.min(b.length - at, 1 + rng.int(3));
    const v = encodeVarint(rng.pick(VARINTS));
    return [splice(b, at, old, v), `varint-raw @${at}`];
  },
  'chunk-dup'(_s, b, rng) {
    const len = 1 + rng.int(Math.min(4096, b.length));
    const from = rng.int(b.length - len + 1);
    const to = rng.int(b.length + 1);
    return [splice(b, to, 0, b.slice(from, from + len)), `chunk-dup ${from}+${len} -> ${to}`];
  },
  'chunk-del'(_s, b, rng) {
    const len = 1 + rng.int(Math.min(4096, b.length));
    const from = rng.int(b.length - len + 1);
    return [splice(b, from, len, new Uint8Array(0)), `chunk-del ${from}+${len}`];
  },
  truncate(s, b, rng) {
    const at = truncationPoint(s, b, rng);
    return [b.slice(0, at), `truncate @${at}`];
  },
};

/** Mutations of an external data file: damaged values, a short file, a longer one. */
const data: Record<string, Raw> = {
  bitflip: raw.bitflip!,
  byte: raw.byte!,
  truncate: raw.truncate!,
  'chunk-del': raw['chunk-del']!,
  float(_s, b, rng) {
    const out = Uint8Array.from(b);
    const slot = 4 * rng.int(Math.floor(out.length / 4));
    const v = rng.pick(FLOATS);
    if (out.length >= 4) out.set(floatBytes(v), slot);
    return [out, `float @${slot} = ${v}`];
  },
  extend(_s, b, rng) {
    const out = new Uint8Array(b.length + 1 + rng.int(8192));
    out.set(b);
    return [out, `extend to ${out.length}`];
  },
};

const STRUCTURED_KINDS = Object.keys(structured);
const RAW_KINDS = Object.keys(raw);
const DATA_KINDS = Object.keys(data);

export interface Mutated {
  bytes: Uint8Array;
  /** what was done, in order (kinds first: "string 2.3.1 (bad UTF-8)") */
  steps: string[];
}

/**
 * One to three mutations of a model file: structured ones first (on the tree), then raw ones (on the bytes).
 * Mix: 40% one structured, 15% two structured, 30% one raw, 15% structured then raw.
 */
export function mutateModel(s: Seed, rng: Rng): Mutated {
  const r = rng.float();
  const nStructured = r < 0.4 ? 1 : r < 0.55 ? 2 : r < 0.85 ? 0 : 1;
  const nRaw = r >= 0.55 ? 1 : 0;
  let tree = s.tree;
  const steps: string[] = [];
  for (let k = 0; k < nStructured; k++) {
    for (let tries = 0; tries < 8; tries++) {
      const kind = rng.pick(STRUCTURED_KINDS);
      const done = structured[kind]!(s, tree, rng);
      if (done === undefined) continue;
      [tree] = done;
      steps.push(done[1]);
      break;
    }
  }
  let bytes = tree === s.tree ? s.bytes : serializeWire(tree);
  for (let k = 0; k < nRaw; k++) {
    const kind = rng.pick(RAW_KINDS);
    const [out, what] = raw[kind]!(nStructured === 0 ? s : undefined, bytes, rng);
    bytes = out;
    steps.push(what);
  }
  return { bytes, steps };
}

/** One mutation of an external data file. */
export function mutateData(b: Uint8Array, rng: Rng): Mutated {
  const kind = rng.pick(DATA_KINDS);
  const [bytes, what] = data[kind]!(undefined, b, rng);
  return { bytes, steps: [`data: ${what}`] };
}

export const MUTATION_KINDS = { structured: STRUCTURED_KINDS, raw: RAW_KINDS, data: DATA_KINDS };
