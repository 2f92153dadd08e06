// Gradients through fake quantization as src/quant/fake-quant.ts emits it: Round is straight-through, so the
// expected gradients are those of the STE (LSQ for step sizes), and AdaRound's soft rounding is smooth in alpha.

import { describe, expect, it } from 'vitest';
import { GraphBuilder, makeModel } from '../onnx/builder.js';
import { cloneModel } from '../onnx/clone.js';
import { Node, type Model } from '../onnx/ir.js';
import { emitLogOps, emitUniformOps } from '../quant/fake-quant.js';
import { roundHalfEven } from '../quant/round.js';
import { probe } from '../runtime/probe.js';
import { mulberry32 } from '../data/calib.js';
import type { HostTensor } from '../util/host-tensor.js';
import { checkGradients } from './grad-check.js';
import { buildGradientGraph } from './gradient-graph.js';
import { GradientRunner } from './runner.js';
import { expectGrads } from './test-helpers.js';

const f64 = (dims: number[], data: number[]): HostTensor => ({ dtype: 'float64', dims, data: Float64Array.from(data) });
const rand = (n: number, seed: number, lo = -1, hi = 1) => {
  const r = mulberry32(seed);
  return Array.from({ length: n }, () => lo + (hi - lo) * r());
};

/** y = x @ fq(W), fq the uniform chain with a per-output-channel scale s and zero-point z (float64). */
function quantizedLinear(quantize: boolean): Model {
  const b = new GraphBuilder();
  const x = b.input('x', 'float64', [3, 4]);
  const w = b.input('W', 'float64', [4, 5]);
  let wq = w;
  if (quantize) {
    const s = b.input('s', 'float64', [5]);
    const z = b.init('z', Float64Array.of(2, 3, 2, 1, 4), [5]);
    const [qmin, qmax] = [b.init('qmin', Float64Array.of(0), []), b.init('qmax', Float64Array.of(15), [])];
    wq = emitUniformOps(b, w, { scale: s, zeroPoint: z, qmin, qmax }, 'W');
  }
  b.output(b.op('MatMul', [x, wq], {}, { outputNames: ['y'] }));
  return makeModel(b.graph);
}

describe('gradients through fake quantization', () => {
  it('give the straight-through (LSQ) gradients for weights and per-channel step sizes', async () => {
    const [xs, ws, ss, ts] = [rand(12, 1), rand(20, 2), rand(5, 3, 0.05, 0.1), rand(15, 4)];
    const zs = [2, 3, 2, 1, 4];
    const run = async (model: Model, wrt: string[], feeds: Record<string, HostTensor>) => {
      const gg = buildGradientGraph(model, { wrt, loss: [{ mse: 'y' }] });
      const runner = await GradientRunner.create(gg, { threads: 1 });
      const step = await runner.run({ ...feeds, [gg.targets.y!]: f64([3, 5], ts) });
      await runner.release();
      return step.grads;
    };
    // dL/dWq at the quantized weights, from the same graph without the quantizer.
    const codes = ws.map((w, i) => roundHalfEven(w / ss[i % 5]!) + zs[i % 5]!);
    const clipped = codes.map((c) => Math.min(Math.max(c, 0), 15));
    const wq = clipped.map((c, i) => (c - zs[i % 5]!) * ss[i % 5]!);
    const dWq = (await run(quantizedLinear(false), ['W'], { x: f64([3, 4], xs), W: f64([4, 5], wq) })).W!;
    const got = await run(quantizedLinear(true), ['W', 's'], {
      x: f64([3, 4], xs),
      W: f64([4, 5], ws),
      s: f64([5], ss),
    });
    expect(codes.some((c) => c < 0) && codes.some((c) => c > 15)).toBe(true);
    const inside = codes.map((c) => (c >= 0 && c <= 15 ? 1 : 0));
    Array.from(got.W!).forEach((g, i) => expect(g).toBeCloseTo(dWq[i]! * inside[i]!, 12));
    const ds = [0, 0, 0, 0, 0];
    ws.forEach((w, i) => (ds[i % 5]! += dWq[i]! * (clipped[i]! - zs[i % 5]! - (inside[i]! * w) / ss[i % 5]!)));
    Array.from(got.s!).forEach((g, j) => expect(g).toBeCloseTo(ds[j]!, 12));
  });

  it('match central differences in AdaRound alpha, with the rounding regularizer as a loss term', async () => {
    const [zeta, gamma, beta] = [1.1, -0.1, 10];
    const b = new GraphBuilder();
    const x = b.input('x', 'float64', [3, 4]);
    const ws = rand(20, 5);
    const s = b.init('s', Float64Array.of(0.1, 0.2, 0.15, 0.1, 0.3), [5]);
    const floorW = b.op('Floor', [b.op('Div', [b.init('W', Float64Array.from(ws), [4, 5]), s])]);
    const alpha = b.init('alpha', Float64Array.from(rand(20, 6, -3, 3)), [4, 5]);
    const c = (v: number) => b.init(`c${v}`, Float64Array.of(v), []);
    const soft = b.op('Add', [b.op('Mul', [b.op('Sigmoid', [alpha]), c(zeta - gamma)]), c(gamma)]);
    const h = b.op('Clip', [soft, c(0), c(1)]);
    b.op('MatMul', [x, b.op('Mul', [b.op('Add', [floorW, h]), s])], {}, { outputNames: ['y'] });
    const centered = b.op('Abs', [b.op('Sub', [b.op('Mul', [h, c(2)]), c(1)])]);
    b.op('Sub', [c(1), b.op('Pow', [centered, c(beta)])], {}, { outputNames: ['reg'] });
    b.output('y');
    const model = makeModel(b.graph);
    const opts = { wrt: ['alpha'], loss: [{ mse: 'y' }, { sum: 'reg', weight: 0.01 }] };
    const feeds = { x: f64([3, 4], rand(12, 7)), y__target: f64([3, 5], rand(15, 8)) };
    expectGrads('AdaRound alpha', await checkGradients(model, opts, feeds), 1e-6);
  });

  it('give the STE gradient of a log2 activation quantizer w.r.t. its input and delta', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [2, 6]);
    const delta = b.input('delta', 'float32', []);
    b.output(b.op('Identity', [emitLogOps(b, x, delta, 'log2', 3, 'attn')], {}, { outputNames: ['y'] }));
    const model = makeModel(b.graph);
    const feeds: Record<string, HostTensor> = {
      // Codes 1..6 (away from the clip bounds, where a central difference straddles the kink) and two values
      // small enough to underflow to 0 (a constant output, so their gradient is 0).
      x: { dtype: 'float32', dims: [2, 6], data: Float32Array.from([...rand(10, 9, 0.012, 0.5), 4e-4, 1e-4]) },
      delta: { dtype: 'float32', dims: [], data: Float32Array.of(0.8) },
      y__target: { dtype: 'float32', dims: [2, 6], data: Float32Array.from(rand(12, 10, 0, 0.5)) },
    };
    // Reference: Round(v) replaced by v + r with r = round(v) - v fed as a constant: the same forward values,
    // and its true gradient is the straight-through one.
    const round = model.graph.nodes.find((n) => n.opType === 'Round')!;
    const [pre] = [round.inputs[0]!];
    let r: Float32Array | undefined;
    for await (const t of probe(model, [pre], [feeds], { threads: 1 })) {
      const v = t.get(pre)!.data as Float32Array;
      r = v.map((e) => roundHalfEven(e) - e);
    }
    const ste = cloneModel(model);
    const g = ste.graph;
    g.removeNode(g.nodes.find((n) => n.name === round.name)!);
    g.inputs.push({ name: 'r', type: { dtype: 'float32', shape: [2, 6] } });
    g.addNode(new Node({ name: 'ste', opType: 'Add', inputs: [pre, 'r'], outputs: [round.outputs[0]!] }));
    g.topoSort();
    const opts = { wrt: ['x', 'delta'], loss: [{ mse: 'y' }] };
    const analytic = buildGradientGraph(model, opts);
    const runner = await GradientRunner.create(analytic, { threads: 1 });
    const step = await runner.run(feeds);
    await runner.release();
    const reference = buildGradientGraph(ste, opts);
    const refRunner = await GradientRunner.create(reference, { threads: 1 });
    const refStep = await refRunner.run({ ...feeds, r: { dtype: 'float32', dims: [2, 6], data: r! } });
    await refRunner.release();
    for (const w of ['x', 'delta'])
      Array.from(step.grads[w]!).forEach((v, i) => expect(v).toBeCloseTo(refStep.grads[w]![i]!, 5));
    // Inside the code range delta cancels under the STE (x^ = delta 2^-q with q = log2(delta / x) + r), so its
    // gradient is 0 up to rounding; underflowed values contribute nothing either.
    expect(Math.abs(step.grads.delta![0]!)).toBeLessThan(1e-6);
    // And the reference itself against central differences in x (smooth where r is held fixed).
    const rFeed: HostTensor = { dtype: 'float32', dims: [2, 6], data: r! };
    const check = await checkGradients(ste, { ...opts, wrt: ['x'] }, { ...feeds, r: rFeed }, { eps: 1e-4, floor: 0.1 });
    expectGrads('log2 quantizer (STE reference)', check, 1e-2);
  });
});
