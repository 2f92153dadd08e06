import { describe, expect, it } from 'vitest';
import { GraphBuilder, makeModel } from '../onnx/builder.js';
import type { HostTensor } from '../util/host-tensor.js';
import { checkGradients } from './grad-check.js';
import { buildGradientGraph } from './gradient-graph.js';
import type { LossTerm } from './loss.js';
import { GradientRunner } from './runner.js';
import { expectGrads } from './test-helpers.js';

const f64 = (dims: number[], data: number[]): HostTensor => ({ dtype: 'float64', dims, data: Float64Array.from(data) });

/** p = x * w over [2, 3, 2] (w per channel, axis 1) and a scalar regularizer r = sum(w^2). */
function model() {
  const b = new GraphBuilder();
  const x = b.input('x', 'float64', [2, 3, 2]);
  const w = b.init('w', Float64Array.of(0.5, -1, 2), [3, 1]);
  b.op('Mul', [x, w], {}, { outputNames: ['p'] });
  b.op('Mul', [w, w], {}, { outputNames: ['r'] });
  b.output('p');
  return makeModel(b.graph);
}

const xs = [0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, 0.8, -0.9, 1, 1.1, -1.2];
const ts = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.1];

async function lossOf(terms: LossTerm[]): Promise<number> {
  const gg = buildGradientGraph(model(), { wrt: ['w'], loss: terms });
  const runner = await GradientRunner.create(gg, { threads: 1 });
  const step = await runner.run({ ...gg.parameters, x: f64([2, 3, 2], xs), p__target: f64([2, 3, 2], ts) });
  await runner.release();
  return step.loss;
}

describe('loss terms', () => {
  const w = [0.5, -1, 2];
  const sq = xs.map((x, i) => (x * w[Math.floor(i / 2) % 3]! - ts[i]!) ** 2);

  it('computes the mean squared error, the channel-summed form and weighted regularizers', async () => {
    expect(await lossOf([{ mse: 'p' }])).toBeCloseTo(sq.reduce((a, b) => a + b) / 12, 12);
    // BRECQ/Q-Diffusion lp_loss: sum over dim 1 (3 channels), mean over the other 2 x 2 positions.
    expect(await lossOf([{ mse: 'p', sumAxis: 1 }])).toBeCloseTo(sq.reduce((a, b) => a + b) / 4, 12);
    const reg = w.reduce((a, v) => a + v * v, 0);
    expect(await lossOf([{ mse: 'p', weight: 2 }, { sum: 'r', weight: 0.01 }, { mean: 'r' }])).toBeCloseTo(
      (2 * sq.reduce((a, b) => a + b)) / 12 + 0.01 * reg + reg / 3,
      12,
    );
  });

  it('differentiates the combined loss (float64 central differences)', async () => {
    const terms: LossTerm[] = [
      { mse: 'p', sumAxis: -2 },
      { sum: 'r', weight: 0.5 },
    ];
    const feeds = { x: f64([2, 3, 2], xs), p__target: f64([2, 3, 2], ts) };
    expectGrads('loss terms', await checkGradients(model(), { wrt: ['w', 'x'], loss: terms }, feeds), 1e-7);
  });
});
