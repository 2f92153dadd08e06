// Reparameterization on a graph built to hit the awkward cases: LayerNorms that share γ/β through Identity (as
// torch de-duplicates equal initializers), two consumers that share one weight through Identity, a decomposed
// LayerNorm, a consumer without bias and a Gemm (transB) consumer without C. Edits must stay private to each pair,
// the float function must not change, and shared weight quantizers must split.

import { describe, expect, it } from 'vitest';
import { GraphBuilder, makeModel } from '../../onnx/builder.js';
import { cloneModel } from '../../onnx/clone.js';
import { calibrateWeights } from '../calibrate.js';
import { makeUniformParams } from '../../quant/qparams.js';
import { relativeGap, runModel } from '../../test-support/repq-vit.js';
import { findPostLnPairs } from './post-ln-pairs.js';
import { reparameterize } from './reparam.js';
import { planRepq } from './targets.js';

function rand(seed: number) {
  let s = seed;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function build() {
  const r = rand(3);
  const vec = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
  const b = new GraphBuilder();
  const x = b.input('x', 'float32', ['B', 5, 6]);
  const z = b.input('z', 'float32', ['M', 6]);
  const gamma = b.init('gamma', vec(6, 0.5, 3), [6]);
  const beta = b.init('beta', vec(6, -0.5, 0.5), [6]);
  const w = b.init('w', vec(24, -1, 1), [6, 4]);
  // LN1 (fused) -> MatMul(w) + bias
  const ln1 = b.op('LayerNormalization', [x, gamma, beta], { axis: -1, epsilon: 1e-5 }, { floatAttrs: ['epsilon'] });
  const y1 = b.op('Add', [b.init('bias1', vec(4, -0.1, 0.1), [4]), b.op('MatMul', [ln1, w])]);
  // LN2 (decomposed, γ/β through Identity) -> MatMul(Identity(w)) without bias
  const x2 = b.op('Add', [x, b.init('one', Float32Array.of(1), [])]);
  const mean = b.op('ReduceMean', [x2], { axes: [-1], keepdims: 1 });
  const d = b.op('Sub', [x2, mean]);
  const v = b.op('ReduceMean', [b.op('Pow', [d, b.init('two', Float32Array.of(2), [])])], { axes: [-1], keepdims: 1 });
  const std = b.op('Sqrt', [b.op('Add', [v, b.init('eps', Float32Array.of(1e-5), [])])]);
  const ln2 = b.op('Add', [b.op('Mul', [b.op('Div', [d, std]), b.op('Identity', [gamma])]), b.op('Identity', [beta])]);
  const y2 = b.op('MatMul', [ln2, b.op('Identity', [w])]);
  // LN3 on 2-D tokens (γ shared again) -> Gemm(transB) without C
  const ln3 = b.op('LayerNormalization', [z, b.op('Identity', [gamma]), beta], { axis: -1 });
  const y3 = b.op(
    'Gemm',
    [ln3, b.init('w3', vec(18, -1, 1), [3, 6])],
    { transB: 1, alpha: 0.5 },
    { floatAttrs: ['alpha'] },
  );
  for (const y of [y1, y2, y3]) b.output(y);
  const feeds = {
    x: { dtype: 'float32' as const, dims: [3, 5, 6], data: vec(90, -2, 2) },
    z: { dtype: 'float32' as const, dims: [7, 6], data: vec(42, -2, 2) },
  };
  return { model: makeModel(b.graph, 17), feeds, vec };
}

describe('reparameterize with shared parameters', () => {
  it('edits private copies, adds missing biases, splits shared weight quantizers and keeps the outputs', async () => {
    const { model, feeds, vec } = build();
    const before = await runModel(model, feeds);
    const work = cloneModel(model);
    const { pairs } = findPostLnPairs(work.graph);
    expect(pairs.map((p) => p.consumers[0]!.opType)).toEqual(['MatMul', 'MatMul', 'Gemm']);
    const plan = planRepq(
      work,
      { wBits: 4, aBits: 4, postLn: 'reparam', postSoftmax: 'reparam', roundZeroPoint: true },
      pairs,
    );
    calibrateWeights(work, plan);
    expect(plan.targets.filter((t) => t.role === 'weight').map((t) => t.uses.length)).toEqual([2, 1]);
    // Channel-wise parameters as pass 1 would leave them: scales spread 20x, integer zero-points around the grid.
    for (const p of pairs) {
      const t = plan.targets.find((x) => x.tensor === p.tensor)!;
      const scale = Array.from(vec(6, 0.02, 0.4));
      const zeroPoint = Array.from(vec(6, -3, 18), Math.round);
      t.params = makeUniformParams({ bits: 4, symmetric: false, axis: 1, scale, zeroPoint });
    }
    const { records, refit } = reparameterize(work.graph, plan, pairs, true);
    expect(records.map((r) => r.newBias.length)).toEqual([0, 1, 1]);
    expect(refit).toHaveLength(3);
    expect(new Set(refit.map((t) => t.tensor)).size).toBe(3);
    expect(refit.every((t) => t.params === undefined && t.uses.length === 1)).toBe(true);
    const acts = plan.targets.filter((t) => pairs.some((p) => p.tensor === t.tensor));
    expect(acts.every((t) => t.axis === null && t.params?.kind === 'uniform' && t.params.axis === null)).toBe(true);
    // Each LayerNorm now reads its own γ and β (shared ones were copied before the edit).
    const lns = findPostLnPairs(work.graph).pairs.map((p) => p.norm);
    expect(new Set(lns.map((l) => l.gamma)).size).toBe(3);
    expect(new Set(lns.map((l) => l.beta)).size).toBe(3);
    expect(lns.every((l) => work.graph.initializers.has(l.gamma!) && work.graph.initializers.has(l.beta!))).toBe(true);
    const after = await runModel(work, feeds);
    for (const k of Object.keys(before)) expect(relativeGap(after[k]!, before[k]!), k).toBeLessThanOrEqual(1e-5);
  });
});
