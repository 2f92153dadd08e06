import { describe, expect, it } from 'vitest';
import { GraphBuilder, makeModel } from '../onnx/builder.js';
import { isQuantlensError } from '../errors.js';
import type { HostTensor } from '../util/host-tensor.js';
import { checkGradients } from './grad-check.js';
import { buildGradientGraph } from './gradient-graph.js';
import { GradientRunner } from './runner.js';
import { expectGrads } from './test-helpers.js';

const f64 = (dims: number[], data: number[]): HostTensor => ({ dtype: 'float64', dims, data: Float64Array.from(data) });

/** a = sigmoid(x); y1 = a * w1; y2 = a * w2 (w1, w2 initializers). */
function twoBranches() {
  const b = new GraphBuilder();
  const x = b.input('x', 'float64', ['batch', 3]);
  const a = b.op('Sigmoid', [x], {}, { name: 'act' });
  const w1 = b.init('w1', Float64Array.of(0.5, -1, 2), [3]);
  const w2 = b.init('w2', Float64Array.of(1, 1, -1), [3]);
  const y1 = b.op('Mul', [a, w1], {}, { name: 'branch1', outputNames: ['y1'] });
  const y2 = b.op('Mul', [a, w2], {}, { name: 'branch2', outputNames: ['y2'] });
  b.output(y1);
  b.output(y2);
  return makeModel(b.graph);
}

async function thrown(f: () => unknown): Promise<Error> {
  try {
    await f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('buildGradientGraph', () => {
  it('reuses the forward values and differentiates only the paths from wrt to the loss', () => {
    const gg = buildGradientGraph(twoBranches(), {
      wrt: ['w1'],
      loss: [{ mse: 'y1' }, { mse: 'y2' }],
      dims: { batch: 2 },
    });
    const nodes = gg.model.graph.nodes;
    expect(nodes.filter((n) => n.opType === 'Sigmoid')).toHaveLength(1);
    // Neither x nor w2 needs a gradient, so no backward node belongs to the Sigmoid or to branch 2.
    expect(nodes.filter((n) => n.name.startsWith('act__grad') || n.name.startsWith('branch2__grad'))).toEqual([]);
    expect(gg.model.graph.outputs.map((o) => o.name)).toEqual([gg.loss, 'grad_w1']);
    expect(gg.inputs).toEqual(['x', 'w1', 'y1__target', 'y2__target']);
    expect(Array.from(gg.parameters.w1!.data as Float64Array)).toEqual([0.5, -1, 2]);
    expect(gg.model.graph.inputs.find((i) => i.name === 'x')!.type).toEqual({ dtype: 'float64', shape: [2, 3] });
  });

  it('computes the loss and every gradient in one run, with zeros for a wrt the loss does not read', async () => {
    const gg = buildGradientGraph(twoBranches(), { wrt: ['w1', 'w2'], loss: [{ mse: 'y1' }], dims: { batch: 1 } });
    const runner = await GradientRunner.create(gg, { threads: 1 });
    const step = await runner.run({ ...gg.parameters, x: f64([1, 3], [0, 0, 0]), y1__target: f64([1, 3], [0, 0, 0]) });
    await runner.release();
    // y1 = 0.5 w1, loss = mean(y1^2) = (0.0625 + 0.25 + 1) / 3; dL/dw1 = 2 y1 0.5 / 3.
    expect(step.loss).toBeCloseTo(1.3125 / 3, 12);
    expect(Array.from(step.grads.w1!)).toEqual([0.5, -1, 2].map((w) => (2 * 0.5 * w * 0.5) / 3));
    expect(Array.from(step.grads.w2!)).toEqual([0, 0, 0]);
  });

  it('sums the gradients of a value used twice (x * x) and of a shared input', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float64', [2, 3]);
    const sq = b.op('Mul', [x, x]);
    b.op('Add', [sq, b.op('Tanh', [x])], {}, { outputNames: ['y'] });
    const opts = { wrt: ['x'], loss: [{ sum: 'y' }] };
    const feeds = { x: f64([2, 3], [0.1, -0.5, 0.9, 1.2, -2, 0.3]) };
    expectGrads('x*x + tanh(x)', await checkGradients(makeModel(b.graph), opts, feeds), 1e-7);
  });

  it('keeps parameters as initializers when asked and returns extra forward outputs', async () => {
    const gg = buildGradientGraph(twoBranches(), {
      wrt: ['w1'],
      loss: [{ mse: 'y1' }],
      dims: { batch: 1 },
      keepInitializers: true,
      outputs: ['y2'],
    });
    expect(gg.inputs).toEqual(['x', 'y1__target']);
    expect(gg.model.graph.initializers.has('w1')).toBe(true);
    const runner = await GradientRunner.create(gg, { threads: 1 });
    const step = await runner.run({ x: f64([1, 3], [0, 0, 0]), y1__target: f64([1, 3], [0, 0, 0]) });
    await runner.release();
    expect(Array.from(step.outputs.y2!.data as Float64Array)).toEqual([0.5, 0.5, -0.5]);
    expect(step.grads.w1).toHaveLength(3);
  });

  it('names the node and op type when an op on the path has no gradient rule, and ignores one off the path', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float64', [3]);
    const c = b.input('c', 'float64', [3]);
    b.op('Add', [b.op('Cos', [x], {}, { name: 'the_cos' }), b.op('Sin', [c])], {}, { outputNames: ['y'] });
    const model = makeModel(b.graph);
    const err = await thrown(() => buildGradientGraph(model, { wrt: ['x'], loss: [{ sum: 'y' }] }));
    expect(isQuantlensError(err) && err.kind).toBe('unsupported');
    expect(err.message).toMatch(/node the_cos \(Cos\) is on the path from x to the loss and has no gradient rule/);
    expect(() => buildGradientGraph(model, { wrt: ['c'], loss: [{ sum: 'y' }] })).toThrow(/\(Sin\)/);
    const onlyC = buildGradientGraph(model, { wrt: [], loss: [{ sum: 'y' }] });
    expect(onlyC.model.graph.outputs).toHaveLength(1);
  });

  it('rejects unknown names, symbolic dims without a size and a non-scalar loss with one line each', async () => {
    const model = twoBranches();
    const cases: [() => unknown, RegExp][] = [
      [() => buildGradientGraph(model, { wrt: ['nope'], loss: 'y1', dims: { batch: 1 } }), /no value named nope/],
      [() => buildGradientGraph(model, { wrt: ['w1'], loss: [{ mse: 'y1' }] }), /input x has the symbolic dim batch/],
      [() => buildGradientGraph(model, { wrt: ['w1'], loss: 'y1', dims: { batch: 2 } }), /loss y1 must be a scalar/],
    ];
    for (const [f, re] of cases) {
      const err = await thrown(f);
      expect(isQuantlensError(err) && err.kind).toBe('usage');
      expect(err.message).toMatch(re);
    }
  });
});
