import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../builder.js';
import { matchAll, matchAt, isSelfContained, type NodePattern } from './pattern.js';
import { makeTensor } from '../tensor.js';

/** x -> MatMul(W) -> Add(b) -> Relu, twice in a row, plus a Constant-fed Mul. */
function linearChain() {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', ['n', 4]);
  const w = b.init('w', new Float32Array(16), [4, 4]);
  const bias = b.init('bias', new Float32Array(4), [4]);
  const m1 = b.op('MatMul', [x, w]);
  const a1 = b.op('Add', [bias, m1]); // torch puts the bias first
  const r1 = b.op('Relu', [a1]);
  const m2 = b.op('MatMul', [r1, w]);
  const a2 = b.op('Add', [m2, bias]);
  const c = b.op('Constant', [], { value: makeTensor('', Float32Array.of(2), []) });
  const y = b.op('Mul', [a2, c]);
  b.output(y, 'float32', ['n', 4]);
  return { g: b.graph, x, w, bias, m1, a1, r1, m2, a2, y };
}

const linear: NodePattern = {
  op: 'Add',
  commutative: true,
  capture: 'add',
  inputs: [
    { op: ['MatMul', 'Gemm'], capture: 'mm', inputs: [{ capture: 'x' }, { const: true, capture: 'w' }] },
    { const: true, capture: 'b' },
  ],
};

describe('pattern matcher', () => {
  it('finds every match, with captures, in graph order', () => {
    const { g, x, r1, w, bias, m1, a1, a2 } = linearChain();
    const ms = matchAll(g, linear);
    expect(ms).toHaveLength(2);
    expect(ms[0]!.values).toEqual({ x, w, b: bias });
    expect(ms[1]!.values.x).toBe(r1);
    expect(ms[0]!.nodes.mm!.outputs[0]).toBe(m1);
    expect(ms[0]!.root.outputs[0]).toBe(a1);
    expect(ms[1]!.root.outputs[0]).toBe(a2);
    expect(ms[0]!.matched.map((n) => n.opType)).toEqual(['MatMul', 'Add']);
  });

  it('respects input order unless the pattern is commutative', () => {
    const { g } = linearChain();
    expect(matchAll(g, { ...linear, commutative: false })).toHaveLength(1);
  });

  it('treats Constant outputs and initializers as constants, but not computed values', () => {
    const { g } = linearChain();
    const mulByConst: NodePattern = { op: 'Mul', inputs: ['any', { const: true, capture: 'c' }] };
    expect(matchAll(g, mulByConst)).toHaveLength(1);
    const mulByInputConst: NodePattern = { op: 'Mul', inputs: [{ const: true }, 'any'] };
    expect(matchAll(g, mulByInputConst)).toHaveLength(0);
  });

  it('makes repeated capture names back-references', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [3]);
    const z = b.input('z', 'float32', [3]);
    const same = b.op('Sub', [x, b.op('Neg', [x])]);
    const other = b.op('Sub', [x, b.op('Neg', [z])]);
    b.output(same);
    b.output(other);
    const p: NodePattern = { op: 'Sub', inputs: [{ capture: 'v' }, { op: 'Neg', inputs: [{ capture: 'v' }] }] };
    const ms = matchAll(b.graph, p);
    expect(ms.map((m) => m.root.outputs[0])).toEqual([same]);
    // node back-reference: Mul(d, d) only when both operands are the same node
    const sq: NodePattern = { op: 'Neg', capture: 'd' };
    const b2 = new GraphBuilder();
    const y = b2.input('y', 'float32', [3]);
    const d = b2.op('Neg', [y]);
    const d2 = b2.op('Neg', [y]);
    b2.output(b2.op('Mul', [d, d]));
    b2.output(b2.op('Mul', [d, d2]));
    expect(matchAll(b2.graph, { op: 'Mul', inputs: [sq, sq] })).toHaveLength(1);
  });

  it('applies where, singleConsumer, domain and outputIndex', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [3]);
    const r = b.op('Relu', [x]);
    b.output(b.op('Neg', [r]));
    b.output(b.op('Abs', [r]));
    const [s0, s1] = b.opMulti('Split', [x], { axis: 0 }, { outputs: 2 });
    b.output(b.op('Neg', [s1!]));
    b.output(b.op('Neg', [s0!], {}, { domain: 'custom' }));
    const g = b.graph;
    expect(matchAll(g, { op: 'Neg', inputs: [{ op: 'Relu' }] })).toHaveLength(1);
    expect(matchAll(g, { op: 'Neg', inputs: [{ op: 'Relu', singleConsumer: true }] })).toHaveLength(0);
    expect(matchAll(g, { op: 'Neg', inputs: [{ op: 'Split' }] })).toHaveLength(0);
    expect(matchAll(g, { op: 'Neg', inputs: [{ op: 'Split', outputIndex: 1 }] })).toHaveLength(1);
    expect(matchAll(g, { op: 'Neg', domain: 'custom' })).toHaveLength(1);
    expect(matchAll(g, { op: 'Neg', where: (n) => n.inputs[0] === r })).toHaveLength(1);
  });

  it('returns non-overlapping matches, anchored nearest the outputs first', () => {
    const b = new GraphBuilder();
    let v = b.input('x', 'float32', [3]);
    for (let i = 0; i < 5; i++) v = b.op('Relu', [v]);
    b.output(v);
    const pair: NodePattern = { op: 'Relu', inputs: [{ op: 'Relu' }] };
    const ms = matchAll(b.graph, pair);
    expect(ms).toHaveLength(2);
    expect(ms[1]!.root.outputs[0]).toBe(v);
    // alternatives: the first that fits at a node wins
    const longer: NodePattern = { op: 'Relu', inputs: [{ op: 'Relu', inputs: [{ op: 'Relu' }] }] };
    expect(matchAll(b.graph, [longer, pair]).map((m) => m.matched.length)).toEqual([2, 3]);
  });

  it('checks whole matches with accept and self-containment', () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [3]);
    const n = b.op('Neg', [x]);
    const r = b.op('Relu', [n]);
    b.output(r);
    const p: NodePattern = { op: 'Relu', inputs: [{ op: 'Neg' }] };
    const m = matchAt(b.graph, p, b.graph.producerOf(r)!)!;
    expect(isSelfContained(b.graph, m)).toBe(true);
    b.output(n);
    expect(isSelfContained(b.graph, m)).toBe(false);
    expect(matchAll(b.graph, p, { accept: (mm, g) => isSelfContained(g, mm) })).toHaveLength(0);
  });
});
