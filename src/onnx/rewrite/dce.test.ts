import { describe, expect, it } from 'vitest';
import { GraphBuilder, makeModel } from '../builder.js';
import { Graph, type Model } from '../ir.js';
import { Session } from '../../runtime/session.js';
import type { HostTensor } from '../../util/host-tensor.js';
import { eliminateDeadCode, outerReferences, pruneValues } from './dce.js';

async function run(model: Model, feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
  const s = await Session.create(model, { threads: 1 });
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}

const f32 = (values: number[], dims: number[]): HostTensor => ({
  dtype: 'float32',
  dims,
  data: Float32Array.from(values),
});

describe('eliminateDeadCode', () => {
  it('removes dead nodes, unused initializers and stale value_info; outputs stay identical', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [2, 3]);
    const w = b.init('w', Float32Array.from([1, 2, 3]), [3]);
    b.init('unused', Float32Array.from([1]), [1]);
    const wDead = b.init('w_dead', Float32Array.from([5, 5, 5]), [3]);
    const live = b.op('Relu', [b.op('Mul', [x, w])]);
    const dead = b.op('Abs', [b.op('Add', [x, wDead])]);
    b.graph.valueInfo.set(dead, { name: dead, type: { dtype: 'float32', shape: [2, 3] } });
    b.graph.valueInfo.set(live, { name: live, type: { dtype: 'float32', shape: [2, 3] } });
    b.output(live, 'float32', [2, 3]);
    // An initializer listed as a graph input is an overridable default: part of the interface, never dropped.
    b.init('opt', Float32Array.from([0]), [1]);
    b.graph.inputs.push({ name: 'opt', type: { dtype: 'float32', shape: [1] } });
    const model = makeModel(b.graph, 13);
    const feeds = { x: f32([-1, 2, -3, 4, -5, 6], [2, 3]) };
    const before = await run(model, feeds);

    const r = eliminateDeadCode(b.graph);
    expect(r).toEqual({ nodes: 2, initializers: 2, valueInfo: 1 });
    expect(b.graph.nodes.map((n) => n.opType)).toEqual(['Mul', 'Relu']);
    expect([...b.graph.initializers.keys()].sort()).toEqual(['opt', 'w']);
    expect([...b.graph.valueInfo.keys()]).toEqual([live]);
    const after = await run(model, feeds);
    expect(after[live]!.data).toEqual(before[live]!.data);
  });

  it('keeps what If branches capture from the outer scope', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [3]);
    const cond = b.input('cond', 'bool', []);
    const c = b.init('c', Float32Array.from([10, 20, 30]), [3]);
    const a = b.op('Neg', [x]);
    b.op('Sqrt', [x]); // dead
    const branch = (name: string, captured: string) => {
      const g = new Graph({ name });
      g.outputs.push({ name: `${name}_y`, type: { dtype: 'float32', shape: [3] } });
      const sub = new GraphBuilder(g);
      sub.op('Add', [captured, x], {}, { outputNames: [`${name}_y`] });
      return g;
    };
    const y = b.op('If', [cond], { then_branch: branch('then', a), else_branch: branch('else', c) });
    b.output(y, 'float32', [3]);
    expect([...outerReferences(branch('then', a))].sort()).toEqual([a, x].sort());

    const model = makeModel(b.graph, 13);
    const r = eliminateDeadCode(b.graph);
    expect(r.nodes).toBe(1);
    expect(b.graph.initializers.has(c)).toBe(true);
    const xs = f32([1, 2, 3], [3]);
    const t = await run(model, { x: xs, cond: { dtype: 'bool', dims: [], data: Uint8Array.of(1) } });
    const e = await run(model, { x: xs, cond: { dtype: 'bool', dims: [], data: Uint8Array.of(0) } });
    expect(Array.from(t[y]!.data as Float32Array)).toEqual([0, 0, 0]);
    expect(Array.from(e[y]!.data as Float32Array)).toEqual([11, 22, 33]);
  });

  it('pruneValues removes only what a rewrite orphaned, following producers', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [3]);
    const k = b.init('k', Float32Array.from([2]), [1]);
    const other = b.init('other_unused', Float32Array.from([2]), [1]);
    const two = b.op('Identity', [k]);
    const m = b.op('Mul', [x, two]);
    b.output(b.op('Relu', [x]));
    b.graph.removeNode(b.graph.producerOf(m)!);
    expect(pruneValues(b.graph, [two, x])).toBe(1);
    expect(b.graph.initializers.has(k)).toBe(false);
    expect(b.graph.initializers.has(other)).toBe(true);
    expect(b.graph.nodes.map((n) => n.opType)).toEqual(['Relu']);
  });
});
