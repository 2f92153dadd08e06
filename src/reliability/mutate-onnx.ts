// ONNX-aware structured mutations: they find nodes, attributes and initializers by field number and break them the
// way hostile or broken exports do (a node without its weight, an extra input, a wrong op type, an attribute of
// the wrong type, an initializer whose dims or data type no longer fit its bytes).

import type { WireField } from './wire.js';
import { editAt, enc, F, OP_TYPES, str, VARINTS, type Rng, type Seed, type Structured } from './mutate-common.js';

export const onnxMutations: Record<string, Structured> = {
  // A node whose input count or inputs are wrong for its op type: a missing weight, an extra input, a ghost value.
  'node-inputs': (s: Seed, tree: WireField[], rng: Rng) =>
    editAt(tree, s.nodes, rng, (c) => {
      const inputs = c.map((f, i) => [f, i] as const).filter(([f]) => f.num === F.nodeInput);
      const action = rng.int(4);
      if (action === 0 && inputs.length > 0) {
        c.splice(rng.pick(inputs)[1], 1);
        return 'node-inputs delete';
      }
      if (action === 1 && inputs.length > 0) {
        const [f, i] = rng.pick(inputs);
        c.splice(i, 0, f);
        return 'node-inputs duplicate';
      }
      const name = rng.pick([enc.encode(''), enc.encode('ghost'), rng.pick(s.names)]);
      if (action === 2 && inputs.length > 0) {
        c[rng.pick(inputs)[1]] = str(F.nodeInput, name);
        return 'node-inputs replace';
      }
      c.push(str(F.nodeInput, name));
      return 'node-inputs add';
    }),
  'node-outputs': (s: Seed, tree: WireField[], rng: Rng) =>
    editAt(tree, s.nodes, rng, (c) => {
      const outs = c.map((f, i) => [f, i] as const).filter(([f]) => f.num === F.nodeOutput);
      if (outs.length > 0 && rng.chance(0.5)) {
        c.splice(rng.pick(outs)[1], 1);
        return 'node-outputs delete';
      }
      c.push(str(F.nodeOutput, rng.pick([enc.encode(''), rng.pick(s.names)])));
      return 'node-outputs add';
    }),
  'op-type': (s: Seed, tree: WireField[], rng: Rng) =>
    editAt(tree, s.nodes, rng, (c) => {
      const op = rng.pick(OP_TYPES);
      const i = c.findIndex((f) => f.num === F.nodeOpType);
      if (i >= 0) c[i] = str(F.nodeOpType, op);
      else c.push(str(F.nodeOpType, op));
      return `op-type ${new TextDecoder().decode(op)}`;
    }),
  // An attribute of the wrong type, or with its value gone or replaced.
  attribute: (s: Seed, tree: WireField[], rng: Rng) =>
    editAt(tree, s.attributes, rng, (c) => {
      const action = rng.int(3);
      if (action === 0) {
        const type = BigInt(rng.int(15));
        const i = c.findIndex((f) => f.num === F.attrType);
        if (i >= 0) c[i] = { num: F.attrType, wire: 0, value: type };
        else c.push({ num: F.attrType, wire: 0, value: type });
        return `attribute type ${type}`;
      }
      const values = c.map((f, i) => [f, i] as const).filter(([f]) => f.num >= 2 && f.num <= 14);
      if (action === 1 && values.length > 0) {
        c.splice(rng.pick(values)[1], 1);
        return 'attribute value deleted';
      }
      const v = rng.pick(VARINTS);
      c.push({ num: rng.pick([3, 8]), wire: 0, value: v });
      return `attribute int ${v}`;
    }),
  // An initializer with other dims, another data type, no data, or another tensor's name.
  initializer: (s: Seed, tree: WireField[], rng: Rng) =>
    editAt(tree, s.initializers, rng, (c) => {
      const dims = c.map((f, i) => [f, i] as const).filter(([f]) => f.num === F.tensorDims && f.wire === 0);
      switch (rng.int(5)) {
        case 0:
          if (dims.length === 0) return undefined;
          c.splice(rng.pick(dims)[1], 1);
          return 'initializer dims delete';
        case 1:
          if (dims.length === 0) return undefined;
          c[rng.pick(dims)[1]] = { num: F.tensorDims, wire: 0, value: rng.pick(VARINTS) };
          return 'initializer dims value';
        case 2: {
          const i = c.findIndex((f) => f.num === F.tensorDataType);
          const v = BigInt(rng.int(26));
          if (i >= 0) c[i] = { num: F.tensorDataType, wire: 0, value: v };
          return `initializer data_type ${v}`;
        }
        case 3: {
          const i = c.findIndex((f) => f.num === F.tensorRawData);
          if (i < 0) return undefined;
          c.splice(i, 1);
          return 'initializer raw_data delete';
        }
        default: {
          // Reshape the same bytes: swap two dims, or move a factor of 2 between dims.
          if (dims.length < 2) return undefined;
          const [a, b] = [rng.pick(dims), rng.pick(dims)];
          if (a[1] === b[1]) return undefined;
          c[b[1]] = { ...b[0], value: (b[0].value as bigint) * 2n };
          c[a[1]] = { ...a[0], value: (a[0].value as bigint) / 2n };
          return 'initializer dims moved';
        }
      }
    }),
};
