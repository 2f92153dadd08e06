import { describe, expect, it } from 'vitest';
import { GraphBuilder, makeModel } from '../builder.js';
import { defaultOpset, type Model } from '../ir.js';
import { makeTensor } from '../tensor.js';
import { Session } from '../../runtime/session.js';
import type { HostTensor } from '../../util/host-tensor.js';
import { findLayerNorms, trailingAxis } from './layernorm.js';
import { decomposeLayerNorms, fuseLayerNorms } from './layernorm-rewrite.js';

function random(n: number, seed: number, scale = 1, offset = 0): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return offset + scale * (s / 2 ** 32 - 0.5);
  });
}

async function run(model: Model, x: HostTensor): Promise<Float32Array> {
  const s = await Session.create(model, { threads: 1 });
  try {
    const out = await s.run({ x });
    return out[model.graph.outputs[0]!.name]!.data as Float32Array;
  } finally {
    await s.release();
  }
}

function maxAbs(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
}

interface Variant {
  opset?: number;
  square?: 'pow' | 'mul';
  norm?: 'div' | 'reciprocal';
  affine?: 'both' | 'gamma' | 'none';
  /** epsilon and exponent as Constant nodes (as torch exports them) rather than initializers */
  constantNodes?: boolean;
  /** put constants first in the commutative ops */
  swapped?: boolean;
  axes?: number[];
  keepdims?: number;
  exponent?: number;
}

const C = 8;

/** A decomposed LayerNorm as torch 1.13 exports it (or a variant), followed by a MatMul like a ViT's qkv. */
function decomposed(v: Variant = {}) {
  const opset = v.opset ?? 13;
  const axes = v.axes ?? [-1];
  const normShape = axes.length === 2 ? [5, C] : [C];
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', ['batch', 5, C]);
  const scalar = (name: string, value: number) =>
    v.constantNodes === true
      ? b.op('Constant', [], { value: makeTensor('', Float32Array.of(value), []) })
      : b.init(name, Float32Array.of(value), []);
  const axesInit = opset >= 18 ? b.init('axes', BigInt64Array.from(axes.map(BigInt)), [axes.length]) : '';
  const reduce = (input: string) =>
    opset >= 18
      ? b.op('ReduceMean', [input, axesInit], v.keepdims === undefined ? {} : { keepdims: v.keepdims })
      : b.op('ReduceMean', [input], { axes, ...(v.keepdims === undefined ? {} : { keepdims: v.keepdims }) });
  const pair = (a: string, c: string) => (v.swapped === true ? [c, a] : [a, c]);
  const d = b.op('Sub', [x, reduce(x)]);
  const sq = v.square === 'mul' ? b.op('Mul', [d, d]) : b.op('Pow', [d, scalar('two', v.exponent ?? 2)]);
  const std = b.op('Sqrt', [b.op('Add', pair(reduce(sq), scalar('eps', 1e-6)))]);
  let y = v.norm === 'reciprocal' ? b.op('Mul', pair(d, b.op('Reciprocal', [std]))) : b.op('Div', [d, std]);
  const n = normShape.reduce((p, q) => p * q, 1);
  const gamma = b.init('norm.weight', random(n, 1, 1, 1), normShape);
  const beta = b.init('norm.bias', random(n, 2), normShape);
  if (v.affine !== 'none') y = b.op('Mul', pair(y, gamma));
  if (v.affine === undefined || v.affine === 'both') y = b.op('Add', pair(y, beta));
  const out = b.op('MatMul', [y, b.init('w', random(C * 4, 3), [C, 4])]);
  b.output(out, 'float32', ['batch', 5, 4]);
  return { model: makeModel(b.graph, opset), x, y, gamma, beta };
}

function fused(opset: number, axis = -1) {
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', ['batch', 5, C]);
  const normShape = axis === -2 ? [5, C] : [C];
  const n = normShape.reduce((p, q) => p * q, 1);
  const gamma = b.init('norm.weight', random(n, 1, 1, 1), normShape);
  const beta = b.init('norm.bias', random(n, 2), normShape);
  const y = b.op('LayerNormalization', [x, gamma, beta], { axis, epsilon: 1e-5 }, { name: '/norm/LayerNormalization' });
  b.output(b.op('Relu', [y]), 'float32', ['batch', 5, C]);
  return { model: makeModel(b.graph, opset), x, y, gamma, beta };
}

const input = (batch = 2, seed = 11): HostTensor => ({
  dtype: 'float32',
  dims: [batch, 5, C],
  data: random(batch * 5 * C, seed, 6, 1),
});

describe('findLayerNorms', () => {
  const variants: Variant[] = [
    {},
    { opset: 18 },
    { opset: 21, square: 'mul', norm: 'reciprocal' },
    { constantNodes: true, swapped: true },
    { norm: 'reciprocal', swapped: true, opset: 17 },
    { affine: 'gamma' },
    { affine: 'none' },
    { axes: [-2, -1] },
  ];
  for (const v of variants) {
    it(`finds the decomposed form ${JSON.stringify(v)}`, () => {
      const { model, x, y, gamma, beta } = decomposed(v);
      const lns = findLayerNorms(model.graph);
      expect(lns).toHaveLength(1);
      const ln = lns[0]!;
      expect(ln).toMatchObject({ kind: 'decomposed', input: x, output: y, axis: -(v.axes ?? [-1]).length });
      expect(ln.epsilon).toBe(Math.fround(1e-6));
      expect(ln.gamma).toBe(v.affine === 'none' ? undefined : gamma);
      expect(ln.beta).toBe(v.affine === undefined || v.affine === 'both' ? beta : undefined);
      expect(ln.nodes.at(-1)!.outputs[0]).toBe(y);
      expect(ln.nodes.length).toBe(
        6 + (v.norm === 'reciprocal' ? 2 : 1) + (v.affine === 'none' ? 0 : v.affine === 'gamma' ? 1 : 2),
      );
    });
  }

  it('finds the fused op, reporting a positive axis from the end when the rank is known', () => {
    const { model, x, y, gamma, beta } = fused(17);
    expect(findLayerNorms(model.graph)).toMatchObject([{ kind: 'fused', input: x, output: y, gamma, beta, axis: -1 }]);
    model.graph.nodes[0]!.attributes.set('axis', { type: 'int', value: 2n });
    expect(findLayerNorms(model.graph)[0]!.axis).toBe(-1);
    expect(findLayerNorms(model.graph)[0]!.epsilon).toBe(Math.fround(1e-5));
  });

  it('rejects look-alikes', () => {
    const count = (v: Variant, edit?: (m: ReturnType<typeof decomposed>) => void) => {
      const m = decomposed(v);
      edit?.(m);
      return findLayerNorms(m.model.graph).length;
    };
    expect(count({ axes: [1] })).toBe(0); // not the trailing axis
    expect(count({ keepdims: 0 })).toBe(0);
    expect(count({ exponent: 3 })).toBe(0);
    // an interior value used outside: the pattern cannot be replaced as a whole
    expect(count({}, (m) => m.model.graph.outputs.push({ name: m.model.graph.nodes[1]!.outputs[0]! }))).toBe(0);
    // the mean of one tensor subtracted from another
    expect(
      count({}, (m) => {
        const g = m.model.graph;
        g.inputs.push({ name: 'z', type: { dtype: 'float32', shape: ['batch', 5, C] } });
        g.setNodeInput(g.nodes[0]!, 0, 'z');
      }),
    ).toBe(0);
  });

  it('computes trailing axes', () => {
    expect(trailingAxis([-1], undefined)).toBe(-1);
    expect(trailingAxis([-1, -2], undefined)).toBe(-2);
    expect(trailingAxis([2], 3)).toBe(-1);
    expect(trailingAxis([2], undefined)).toBeUndefined();
    expect(trailingAxis([-3, -1], undefined)).toBeUndefined();
  });
});

describe('fuseLayerNorms / decomposeLayerNorms', () => {
  const variants: Variant[] = [
    {},
    { opset: 18 },
    { opset: 21, square: 'mul', norm: 'reciprocal', swapped: true },
    { constantNodes: true },
    { affine: 'gamma' },
    { affine: 'none' },
    { axes: [-2, -1] },
  ];
  for (const v of variants) {
    it(`fuses ${JSON.stringify(v)} into one op with the same outputs (1e-5)`, async () => {
      const { model, y, gamma, beta } = decomposed(v);
      const xs = [input(2, 11), input(3, 12)];
      const before = await Promise.all(xs.map((x) => run(model, x)));
      const r = fuseLayerNorms(model);
      expect(r).toEqual({ rewritten: 1, skipped: [] });
      expect(defaultOpset(model)).toBe(Math.max(v.opset ?? 13, 17));
      expect(model.graph.nodes.map((n) => n.opType)).toEqual(['LayerNormalization', 'MatMul']);
      const ln = model.graph.nodes[0]!;
      expect(ln.outputs).toEqual([y]);
      if (v.affine !== 'none') expect(ln.inputs[1]).toBe(gamma);
      expect(ln.inputs[2]).toBe(v.affine === undefined || v.affine === 'both' ? beta : undefined);
      // the epsilon/exponent constants and the axes went with the nodes that used them
      expect([...model.graph.initializers.keys()].filter((k) => ['two', 'eps', 'axes'].includes(k))).toEqual([]);
      for (const [i, x] of xs.entries()) expect(maxAbs(await run(model, x), before[i]!)).toBeLessThan(1e-5);
    });
  }

  it('skips a LayerNorm whose gamma does not hold one value per channel', () => {
    const { model } = decomposed();
    model.graph.initializers.set('norm.weight', makeTensor('norm.weight', Float32Array.of(2), [1]));
    const r = fuseLayerNorms(model);
    expect(r.rewritten).toBe(0);
    expect(r.skipped[0]!.reason).toMatch(/norm.weight has shape \[1\]/);
    expect(defaultOpset(model)).toBe(13);
  });

  for (const [opset, axis] of [
    [17, -1],
    [18, -1],
    [21, -2],
  ] as const) {
    it(`decomposes LayerNormalization at opset ${opset} (axis ${axis}) and fuses it back`, async () => {
      const { model, x: _x, y, gamma, beta } = fused(opset, axis);
      const xs = [input(2, 21), input(4, 22)];
      const before = await Promise.all(xs.map((x) => run(model, x)));
      expect(decomposeLayerNorms(model)).toEqual({ rewritten: 1, skipped: [] });
      const ops = model.graph.nodes.map((n) => n.opType);
      expect(ops).toEqual(['ReduceMean', 'Sub', 'Pow', 'ReduceMean', 'Add', 'Sqrt', 'Div', 'Mul', 'Add', 'Relu']);
      const rm = model.graph.nodes[0]!;
      expect(rm.inputs.length).toBe(opset >= 18 ? 2 : 1);
      expect(rm.name).toBe('/norm/ReduceMean');
      for (const [i, x] of xs.entries()) expect(maxAbs(await run(model, x), before[i]!)).toBeLessThan(1e-5);
      expect(findLayerNorms(model.graph)).toMatchObject([{ kind: 'decomposed', output: y, gamma, beta, axis }]);
      expect(fuseLayerNorms(model).rewritten).toBe(1);
      expect(model.graph.nodes.map((n) => n.opType)).toEqual(['LayerNormalization', 'Relu']);
      expect(model.graph.initializers.size).toBe(2);
      for (const [i, x] of xs.entries()) expect(maxAbs(await run(model, x), before[i]!)).toBeLessThan(1e-5);
    });
  }

  it('refuses opsets outside 13..21 and skips LayerNorms whose extra outputs are used', () => {
    expect(() => fuseLayerNorms(decomposed({ opset: 12 }).model)).toThrow(/opsets 13 to 21/);
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [2, C]);
    const g = b.init('g', random(C, 1), [C]);
    const [y, mean] = b.opMulti('LayerNormalization', [x, g], {}, { outputs: 2 });
    b.output(y!);
    b.output(mean!);
    const r = decomposeLayerNorms(makeModel(b.graph, 17));
    expect(r.skipped).toEqual([{ output: y, reason: 'its Mean or InvStdDev output is used' }]);
  });
});
