// Every folding kernel against ORT's own kernel on the same constant inputs: the folded graph must give the
// same bytes (dtype, shape and values) as ORT computing the node.
import { describe, expect, it } from 'vitest';
import { GraphBuilder, makeModel, type AttrValue } from '../builder.js';
import type { DType } from '../dtype.js';
import type { NumericArray } from '../tensor.js';
import { Session } from '../../runtime/session.js';
import type { HostTensor } from '../../util/host-tensor.js';
import { foldConstants } from './constant-fold.js';

type In = [NumericArray, number[]] | [NumericArray, number[], DType];

interface Case {
  name: string;
  op: string;
  inputs: (In | '')[];
  attrs?: Record<string, AttrValue>;
  opset?: number;
}

const i64 = (...v: number[]) => BigInt64Array.from(v.map(BigInt));
const f32 = (...v: number[]) => Float32Array.from(v);
const MAX = 2n ** 63n - 1n;
const MIN = -(2n ** 63n);
const bool = (...v: number[]): In => [Uint8Array.from(v), [v.length], 'bool'];

const CASES: Case[] = [
  {
    name: 'Gather scalar negative index',
    op: 'Gather',
    inputs: [
      [i64(2, 3, 5, 7), [4]],
      [i64(-1), []],
    ],
  },
  {
    name: 'Gather axis 1, 2-D indices',
    op: 'Gather',
    inputs: [
      [f32(1, 2, 3, 4, 5, 6), [2, 3]],
      [i64(0, 2, -1, 1), [2, 2]],
    ],
    attrs: { axis: 1 },
  },
  {
    name: 'Unsqueeze scalar',
    op: 'Unsqueeze',
    inputs: [
      [i64(4), []],
      [i64(0), [1]],
    ],
  },
  {
    name: 'Unsqueeze negative axes',
    op: 'Unsqueeze',
    inputs: [
      [f32(1, 2, 3, 4, 5, 6), [2, 3]],
      [i64(-1, 0), [2]],
    ],
  },
  {
    name: 'Squeeze axes',
    op: 'Squeeze',
    inputs: [
      [i64(1, 2, 3), [1, 3, 1]],
      [i64(-1), [1]],
    ],
  },
  { name: 'Squeeze all', op: 'Squeeze', inputs: [[i64(1, 2, 3), [1, 3, 1]]] },
  {
    name: 'Concat int64',
    op: 'Concat',
    inputs: [
      [i64(1), [1]],
      [i64(-1, 4), [2]],
      [i64(7), [1]],
    ],
    attrs: { axis: 0 },
  },
  {
    name: 'Concat negative axis',
    op: 'Concat',
    inputs: [
      [f32(1, 2), [2, 1]],
      [f32(3, 4, 5, 6), [2, 2]],
    ],
    attrs: { axis: -1 },
  },
  {
    name: 'Slice to INT64_MAX',
    op: 'Slice',
    inputs: [
      [i64(0, 1, 2, 3, 4), [5]],
      [i64(1), [1]],
      [BigInt64Array.of(MAX), [1]],
    ],
  },
  {
    name: 'Slice negative step to INT64_MIN',
    op: 'Slice',
    inputs: [
      [i64(0, 1, 2, 3, 4), [5]],
      [i64(-1), [1]],
      [BigInt64Array.of(MIN), [1]],
      [i64(0), [1]],
      [i64(-2), [1]],
    ],
  },
  {
    name: 'Slice 2-D with axes and steps',
    op: 'Slice',
    inputs: [
      [f32(...Array.from({ length: 12 }, (_, i) => i)), [3, 4]],
      [i64(0, 1), [2]],
      [i64(100, -1), [2]],
      [i64(-1, 0), [2]],
      [i64(2, 2), [2]],
    ],
  },
  {
    name: 'Slice empty result',
    op: 'Slice',
    inputs: [
      [i64(0, 1, 2), [3]],
      [i64(2), [1]],
      [i64(1), [1]],
    ],
  },
  { name: 'Cast int64 -> float32', op: 'Cast', inputs: [[i64(-3, 0, 12345), [3]]], attrs: { to: 1 } },
  { name: 'Cast float32 -> int64 truncates', op: 'Cast', inputs: [[f32(-1.7, 2.5, 0, 3.9), [4]]], attrs: { to: 7 } },
  { name: 'Cast float32 -> bool', op: 'Cast', inputs: [[f32(-1, 0, 0.5), [3]]], attrs: { to: 9 } },
  { name: 'Cast bool -> int64', op: 'Cast', inputs: [bool(1, 0, 1)], attrs: { to: 7 } },
  { name: 'Cast int64 -> int32', op: 'Cast', inputs: [[i64(-5, 70000), [2]]], attrs: { to: 6 } },
  { name: 'Cast float32 -> float64', op: 'Cast', inputs: [[f32(0.1, -2), [2]]], attrs: { to: 11 } },
  {
    name: 'Reshape 0 and -1',
    op: 'Reshape',
    inputs: [
      [f32(1, 2, 3, 4, 5, 6), [2, 3]],
      [i64(0, -1, 1), [3]],
    ],
  },
  {
    name: 'Reshape allowzero=0 at opset 14',
    op: 'Reshape',
    inputs: [
      [i64(1, 2, 3, 4, 5, 6), [2, 3]],
      [i64(3, -1), [2]],
    ],
    attrs: { allowzero: 0 },
    opset: 14,
  },
  {
    name: 'Add int64 broadcast',
    op: 'Add',
    inputs: [
      [i64(1, 2), [2, 1]],
      [i64(10, 20, 30), [3]],
    ],
  },
  {
    name: 'Sub float32 broadcast',
    op: 'Sub',
    inputs: [
      [f32(0.1, 0.2), [2, 1]],
      [f32(0.3), []],
    ],
  },
  {
    name: 'Mul int64 wraps',
    op: 'Mul',
    inputs: [
      [BigInt64Array.of(MAX), [1]],
      [i64(2), [1]],
    ],
  },
  {
    name: 'Mul int32',
    op: 'Mul',
    inputs: [
      [Int32Array.of(70000, -3), [2]],
      [Int32Array.of(70000, 5), [2]],
    ],
  },
  {
    name: 'Div int64 truncates toward zero',
    op: 'Div',
    inputs: [
      [i64(-7, 7, -8, 9), [4]],
      [i64(2, -2, 3, 3), [4]],
    ],
  },
  {
    name: 'Div float32',
    op: 'Div',
    inputs: [
      [f32(1, 2, 3), [3]],
      [f32(3), [1]],
    ],
  },
  {
    name: 'Equal int64',
    op: 'Equal',
    inputs: [
      [i64(1, 2, 3), [3]],
      [i64(2), []],
    ],
  },
  { name: 'Where broadcast', op: 'Where', inputs: [bool(1, 0, 1), [i64(1, 2, 3), [3]], [i64(-1), [1]]] },
  {
    name: 'ConstantOfShape int64',
    op: 'ConstantOfShape',
    inputs: [[i64(2, 3), [2]]],
    attrs: {
      value: { type: 'tensor', value: { name: '', dtype: 'int64', dims: [1], data: new Uint8Array(i64(7).buffer) } },
    },
  },
  { name: 'ConstantOfShape default', op: 'ConstantOfShape', inputs: [[i64(4), [1]]] },
  { name: 'ConstantOfShape of []', op: 'ConstantOfShape', inputs: [[i64(), [0]]] },
  {
    name: 'Range int64',
    op: 'Range',
    inputs: [
      [i64(0), []],
      [i64(10), []],
      [i64(3), []],
    ],
  },
  {
    name: 'Range int64 negative delta',
    op: 'Range',
    inputs: [
      [i64(10), []],
      [i64(0), []],
      [i64(-3), []],
    ],
  },
  {
    name: 'Range float32 accumulates',
    op: 'Range',
    inputs: [
      [f32(0), []],
      [f32(1), []],
      [f32(0.1), []],
    ],
  },
  {
    name: 'Expand',
    op: 'Expand',
    inputs: [
      [f32(1, 2, 3), [3, 1]],
      [i64(2, 1, 4), [3]],
    ],
  },
  { name: 'Identity', op: 'Identity', inputs: [[i64(5, 6), [2]]] },
  { name: 'Transpose default', op: 'Transpose', inputs: [[f32(1, 2, 3, 4, 5, 6), [2, 3]]] },
  {
    name: 'Transpose perm',
    op: 'Transpose',
    inputs: [[i64(...Array.from({ length: 24 }, (_, i) => i)), [2, 3, 4]]],
    attrs: { perm: [1, 2, 0] },
  },
  {
    name: 'ReduceProd attribute axes (13)',
    op: 'ReduceProd',
    inputs: [[i64(1, 2, 3, 4, 5, 6), [2, 3]]],
    attrs: { axes: [1], keepdims: 0 },
  },
  { name: 'ReduceProd all (13)', op: 'ReduceProd', inputs: [[i64(1, 2, 3, 4, 5, 6), [2, 3]]] },
  {
    name: 'ReduceProd input axes (18)',
    op: 'ReduceProd',
    inputs: [
      [f32(1, 2, 3, 4, 5, 6), [2, 3]],
      [i64(-2), [1]],
    ],
    opset: 18,
  },
  {
    name: 'ReduceProd noop (18)',
    op: 'ReduceProd',
    inputs: [[i64(2, 3), [2]]],
    attrs: { noop_with_empty_axes: 1 },
    opset: 18,
  },
  { name: 'Sqrt', op: 'Sqrt', inputs: [[f32(2, 9, 0.5), [3]]] },
  { name: 'Neg int64', op: 'Neg', inputs: [[i64(3, -4), [2]]] },
  {
    name: 'Shape start/end (15)',
    op: 'Shape',
    inputs: [[f32(...new Array<number>(24).fill(0)), [2, 3, 4]]],
    attrs: { start: 1, end: -1 },
    opset: 15,
  },
  { name: 'Shape (21)', op: 'Shape', inputs: [[f32(...new Array<number>(6).fill(0)), [2, 3]]], opset: 21 },
];

async function runAll(b: GraphBuilder, opset: number): Promise<Record<string, HostTensor>> {
  const s = await Session.create(makeModel(b.graph, opset), { threads: 1 });
  try {
    return await s.run({});
  } finally {
    await s.release();
  }
}

describe('folding kernels agree with ORT bit for bit', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const b = new GraphBuilder();
      const inputs = c.inputs.map((inp, i) => (inp === '' ? '' : b.init(`in${i}`, inp[0], inp[1], inp[2])));
      const y = b.op('Identity', [b.op(c.op, inputs, c.attrs ?? {})]);
      b.output(y);
      const opset = c.opset ?? 13;
      const want = (await runAll(b, opset))[y]!;
      const r = foldConstants(b.graph, { mode: 'all' });
      expect(r.folded).toBe(1);
      expect(b.graph.nodes.map((n) => n.opType)).toEqual(['Identity']);
      const got = (await runAll(b, opset))[y]!;
      expect(got.dtype).toBe(want.dtype);
      expect(got.dims).toEqual(want.dims);
      expect(Array.from(got.data as ArrayLike<number | bigint>)).toEqual(
        Array.from(want.data as ArrayLike<number | bigint>),
      );
    });
  }
});
