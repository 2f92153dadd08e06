// A schema-free view of protobuf wire format for the fuzzer: bytes -> a tree of fields (length-delimited fields
// that parse as messages get children), and back. Re-serializing an untouched tree gives the input bytes again
// (protobuf writers emit minimal varints), so a mutation applied to one field keeps every enclosing length prefix
// consistent and the result still decodes: that is what lets mutations reach the IR and the passes instead of
// stopping at the protobuf decoder. Imports nothing.

export interface WireField {
  num: number;
  /** 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32 */
  wire: number;
  /** varint value (wire 0) or payload bytes (wires 1, 2, 5) */
  value: bigint | Uint8Array;
  /** wire 2 payload parsed as a message, when it parses */
  children?: WireField[];
}

/** Byte offsets where some field starts or ends, with its nesting depth: the interesting truncation points. */
export interface Boundary {
  offset: number;
  depth: number;
}

const MAX_DEPTH = 12;

function readVarint(b: Uint8Array, pos: number): [bigint, number] | undefined {
  let v = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    const byte = b[pos + i];
    if (byte === undefined) return undefined;
    v |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [v & 0xffff_ffff_ffff_ffffn, pos + i + 1];
    shift += 7n;
  }
  return undefined;
}

export function encodeVarint(value: bigint): Uint8Array {
  let v = BigInt.asUintN(64, value);
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

/** Parses `b` as a message; undefined when it is not one (so the bytes stay a leaf). */
export function parseWire(b: Uint8Array, depth = 0, base = 0, boundaries?: Boundary[]): WireField[] | undefined {
  const fields: WireField[] = [];
  const marks: Boundary[] = [];
  let pos = 0;
  while (pos < b.length) {
    const start = pos;
    const tag = readVarint(b, pos);
    if (tag === undefined) return undefined;
    const num = Number(tag[0] >> 3n);
    const wire = Number(tag[0] & 7n);
    if (num < 1 || num > 536_870_911) return undefined;
    pos = tag[1];
    let field: WireField;
    if (wire === 0) {
      const v = readVarint(b, pos);
      if (v === undefined) return undefined;
      field = { num, wire, value: v[0] };
      pos = v[1];
    } else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      if (pos + n > b.length) return undefined;
      field = { num, wire, value: b.subarray(pos, pos + n) };
      pos += n;
    } else if (wire === 2) {
      const len = readVarint(b, pos);
      if (len === undefined || len[0] > BigInt(b.length - len[1])) return undefined;
      const payloadStart = len[1];
      const payload = b.subarray(payloadStart, payloadStart + Number(len[0]));
      field = { num, wire, value: payload };
      if (depth < MAX_DEPTH && payload.length > 0) {
        const inner: Boundary[] | undefined = boundaries === undefined ? undefined : [];
        const children = parseWire(payload, depth + 1, base + payloadStart, inner);
        if (children !== undefined) {
          field.children = children;
          if (inner !== undefined) marks.push(...inner);
        }
      }
      pos = payloadStart + payload.length;
    } else return undefined;
    marks.push({ offset: base + start, depth }, { offset: base + pos, depth });
    fields.push(field);
  }
  boundaries?.push(...marks);
  return fields;
}

function fieldBytes(f: WireField, out: Uint8Array[]): number {
  const tag = encodeVarint(BigInt(f.num) * 8n + BigInt(f.wire));
  out.push(tag);
  if (f.wire === 0) {
    const v = encodeVarint(f.value as bigint);
    out.push(v);
    return tag.length + v.length;
  }
  if (f.wire === 2) {
    const payload = f.children === undefined ? (f.value as Uint8Array) : serializeWire(f.children);
    const len = encodeVarint(BigInt(payload.length));
    out.push(len, payload);
    return tag.length + len.length + payload.length;
  }
  const v = f.value as Uint8Array;
  out.push(v);
  return tag.length + v.length;
}

export function serializeWire(fields: readonly WireField[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let n = 0;
  for (const f of fields) n += fieldBytes(f, parts);
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Path of child indices from the root list to a field. */
export type WirePath = readonly number[];

/** Every message in the tree (the root is []), and every leaf field, by path. */
export function indexWire(root: readonly WireField[]): { messages: WirePath[]; leaves: WirePath[] } {
  const messages: WirePath[] = [[]];
  const leaves: WirePath[] = [];
  const walk = (fields: readonly WireField[], path: number[]) => {
    fields.forEach((f, i) => {
      const p = [...path, i];
      if (f.children !== undefined) {
        messages.push(p);
        walk(f.children, p);
      } else leaves.push(p);
    });
  };
  walk(root, []);
  return { messages, leaves };
}

export function fieldAt(root: readonly WireField[], path: WirePath): WireField | undefined {
  let list: readonly WireField[] | undefined = root;
  let f: WireField | undefined;
  for (const i of path) {
    f = list?.[i];
    list = f?.children;
  }
  return f;
}

export function childrenAt(root: readonly WireField[], path: WirePath): readonly WireField[] {
  return path.length === 0 ? root : (fieldAt(root, path)?.children ?? []);
}

/**
 * A new root where the children of the message at `path` are replaced by `edit(children)`; only the fields along
 * the path are copied, the rest is shared.
 */
export function editMessage(
  root: readonly WireField[],
  path: WirePath,
  edit: (children: WireField[]) => WireField[],
): WireField[] {
  if (path.length === 0) return edit([...root]);
  const [i, ...rest] = path;
  const copy = [...root];
  const f = copy[i!]!;
  copy[i!] = { ...f, children: editMessage(f.children ?? [], rest, edit) };
  return copy;
}

/** A new root with the field at `path` replaced. */
export function replaceField(root: readonly WireField[], path: WirePath, field: WireField): WireField[] {
  const parent = path.slice(0, -1);
  const last = path[path.length - 1]!;
  return editMessage(root, parent, (c) => {
    c[last] = field;
    return c;
  });
}
