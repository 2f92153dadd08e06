import { describe, expect, it } from 'vitest';
import { GraphBuilder, makeModel } from '../builder.js';
import type { Dim, Model } from '../ir.js';
import { makeTensor, toNumbers } from '../tensor.js';
import { Session } from '../../runtime/session.js';
import type { HostTensor } from '../../util/host-tensor.js';
import { foldConstants } from './constant-fold.js';

async function run(model: Model, feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
  const s = await Session.create(model, { threads: 1 });
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}

function randomInput(dims: number[], seed: number): HostTensor {
  let s = seed >>> 0;
  const data = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  });
  return { dtype: 'float32', dims, data };
}

const scalarConst = (b: GraphBuilder, v: number) =>
  b.op('Constant', [], { value: makeTensor('', BigInt64Array.of(BigInt(v)), []) });
const vecConst = (b: GraphBuilder, v: number[]) =>
  b.op('Constant', [], { value: makeTensor('', BigInt64Array.from(v.map(BigInt)), [v.length]) });

/** torch's `x.reshape(x.shape[0], x.shape[1], -1)` export: Shape -> Gather -> Unsqueeze -> Concat -> Reshape. */
function reshapeChain(shape: Dim[]) {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', shape);
  const s = b.op('Shape', [x]);
  const batch = b.op('Unsqueeze', [b.op('Gather', [s, scalarConst(b, 0)], { axis: 0 }), vecConst(b, [0])]);
  const chans = b.op('Unsqueeze', [b.op('Gather', [s, scalarConst(b, 1)], { axis: 0 }), vecConst(b, [0])]);
  const target = b.op('Concat', [batch, chans, vecConst(b, [-1])], { axis: 0 });
  const y = b.op('Relu', [b.op('Reshape', [x, target])]);
  b.output(y, 'float32', [shape[0]!, shape[1]!, null]);
  return { model: makeModel(b.graph, 13), y, target };
}

describe('foldConstants', () => {
  it('folds only the static part of a symbolic-batch reshape chain; runs at batch 1 and 5', async () => {
    const { model, y } = reshapeChain(['batch', 3, 4, 5]);
    const feeds = [1, 5].map((n, i) => ({ x: randomInput([n, 3, 4, 5], i + 1) }));
    const before = await Promise.all(feeds.map((f) => run(model, f)));
    const r = foldConstants(model.graph);
    expect(r.constants).toBe(5);
    expect(r.folded).toBe(2); // Gather(shape, 1) and its Unsqueeze
    expect(model.graph.nodes.map((n) => n.opType)).toEqual([
      'Shape',
      'Gather',
      'Unsqueeze',
      'Concat',
      'Reshape',
      'Relu',
    ]);
    const folded = [...model.graph.initializers.values()].find(
      (t) => t.dtype === 'int64' && toNumbers(t).join() === '3',
    );
    expect(folded?.dims).toEqual([1]);
    for (const [i, f] of feeds.entries()) {
      const after = await run(model, f);
      expect(after[y]!.dims).toEqual([[1, 5][i], 3, 20]);
      expect(after[y]!.data).toEqual(before[i]![y]!.data);
    }
  });

  it('folds the whole chain into one shape initializer when the shape is static', async () => {
    const { model, y, target } = reshapeChain([2, 3, 4, 5]);
    const feeds = { x: randomInput([2, 3, 4, 5], 7) };
    const before = await run(model, feeds);
    const r = foldConstants(model.graph);
    expect(model.graph.nodes.map((n) => n.opType)).toEqual(['Reshape', 'Relu']);
    expect(toNumbers(model.graph.initializers.get(target)!)).toEqual([2, 3, -1]);
    expect(model.graph.initializers.size).toBe(1);
    expect(r).toMatchObject({ constants: 5, folded: 6, dce: { nodes: 0, initializers: 10 } });
    expect((await run(model, feeds))[y]!.data).toEqual(before[y]!.data);
  });

  it('folds Slice(Shape(x)) when the sliced dims are static', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', ['n', 3, 4]);
    const tail = b.op('Slice', [b.op('Shape', [x]), vecConst(b, [1]), vecConst(b, [3])]);
    const head = b.op('Slice', [b.op('Shape', [x]), vecConst(b, [0]), vecConst(b, [2])]);
    b.output(b.op('Reshape', [x, b.op('Concat', [head, tail], { axis: 0 })]));
    foldConstants(b.graph);
    expect(toNumbers(b.graph.initializers.get(tail)!)).toEqual([3, 4]);
    expect(b.graph.initializers.has(head)).toBe(false);
  });

  it('leaves weights alone in shape mode and folds them in all mode, with identical outputs', async () => {
    const build = () => {
      const b = new GraphBuilder();
      const x = b.input('x', 'float32', ['n', 4]);
      const w = b.init('w', randomInput([4, 4], 3).data as Float32Array, [4, 4]);
      const y = b.op('MatMul', [x, b.op('Transpose', [w], { perm: [1, 0] })]);
      b.output(y, 'float32', ['n', 4]);
      return { model: makeModel(b.graph, 17), y };
    };
    const feeds = { x: randomInput([3, 4], 9) };
    const shape = build();
    const want = (await run(shape.model, feeds))[shape.y]!.data;
    expect(foldConstants(shape.model.graph).folded).toBe(0);
    const all = build();
    expect(foldConstants(all.model.graph, { mode: 'all' }).folded).toBe(1);
    expect(all.model.graph.nodes.map((n) => n.opType)).toEqual(['MatMul']);
    expect((await run(all.model, feeds))[all.y]!.data).toEqual(want);
  });

  it('keeps graph output names: nodes producing outputs stay, their consumers still fold', async () => {
    const b = new GraphBuilder();
    const c = b.op('Constant', [], { value: makeTensor('', Float32Array.of(3), [1]) });
    const sum = b.op('Add', [c, c]);
    const twice = b.op('Mul', [sum, sum]);
    b.output(c);
    b.output(sum);
    b.output(b.op('Identity', [twice]));
    const model = makeModel(b.graph, 13);
    const before = await run(model, {});
    const r = foldConstants(b.graph);
    expect(r).toMatchObject({ constants: 0, folded: 1 });
    expect(b.graph.nodes.map((n) => n.opType)).toEqual(['Constant', 'Add', 'Identity']);
    expect(b.graph.outputs.map((o) => o.name)).toEqual(Object.keys(before));
    expect(await run(model, {})).toEqual(before);
  });

  it('does not fold tensors past the size limit', () => {
    const b = new GraphBuilder();
    const big = b.op('ConstantOfShape', [vecConst(b, [1100, 1000])]);
    b.output(b.op('ReduceSum', [big]));
    expect(foldConstants(b.graph, { mode: 'all' }).folded).toBe(0);
    expect(foldConstants(b.graph, { mode: 'all', maxElements: 2_000_000 }).folded).toBe(1);
  });

  it('leaves Shape alone when the dims it needs are symbolic, and unknown ops alone', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', ['n', 'm']);
    const s = b.op('Shape', [x]);
    b.output(b.op('Gather', [s, scalarConst(b, -1)], { axis: 0 }));
    b.output(b.op('Floor', [b.init('k', Float32Array.of(1.5), [1])]));
    const r = foldConstants(b.graph, { mode: 'all' });
    expect(r.folded).toBe(0);
    expect(b.graph.nodes.map((n) => n.opType)).toEqual(['Shape', 'Gather', 'Floor']);
  });

  it('treats initializers that are also graph inputs as overridable, not constant', () => {
    const b = new GraphBuilder();
    const k = b.init('k', BigInt64Array.of(2n), [1]);
    b.graph.inputs.push({ name: k, type: { dtype: 'int64', shape: [1] } });
    b.output(b.op('Identity', [b.op('Neg', [k])]));
    expect(foldConstants(b.graph).folded).toBe(0);
  });
});
