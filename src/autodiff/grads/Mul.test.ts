import { describe, expect, it } from 'vitest';
import { GraphBuilder, makeModel } from '../../onnx/builder.js';
import { checkGradients } from '../grad-check.js';
import { buildGradientGraph } from '../gradient-graph.js';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('Mul gradient', () => {
  it('matches central differences (float64)', async () => {
    expectGrads('Mul', await checkOp({ op: 'Mul', inputs: [{ dims: [2, 3, 4] }, { dims: [3, 1] }] }), 1e-6);
  });

  it('gives a square Mul(x, x) its whole gradient 2 x dy', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float64', [2, 3]);
    b.op('Mul', [x, x], {}, { name: 'square', outputNames: ['y'] });
    const model = makeModel(b.graph);
    const opts = { wrt: ['x'], loss: [{ mse: 'y' }] };
    const gg = buildGradientGraph(model, opts);
    expect(gg.model.graph.nodes.filter((n) => n.name.startsWith('square__grad/')).map((n) => n.opType)).toEqual([
      'Mul',
      'Mul',
    ]);
    const data = Float64Array.of(0.3, -1.2, 0.7, 2, -0.1, 1);
    const feeds = {
      x: { dtype: 'float64' as const, dims: [2, 3], data },
      y__target: { dtype: 'float64' as const, dims: [2, 3], data: data.map((v) => v / 2) },
    };
    expectGrads('Mul(x, x)', await checkGradients(model, opts, feeds), 1e-6);
  });
});
