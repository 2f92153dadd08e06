// End to end: gradients through the shipped Fashion-MNIST feature CNN (Conv, Relu, 2x2 MaxPool, GlobalAveragePool,
// Flatten, Gemm), float32, checked as in deit.test.ts.

import { describe, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { readModel } from '../onnx/io/index.js';
import { checkGradients } from './grad-check.js';
import { buildGradientGraph } from './gradient-graph.js';
import { prepareForward, type GradientOptions } from './prepare.js';
import { expectGrads, randomFeeds } from './test-helpers.js';

describe('gradients through the shipped feature CNN', () => {
  it('match central differences through MaxPool and GlobalAveragePool', async () => {
    const model = readModel(fileURLToPath(new URL('../../models/fmnist-features.onnx', import.meta.url)));
    const convs = model.graph.nodes.filter((n) => n.opType === 'Conv').map((n) => n.inputs[1]!);
    const opts: GradientOptions = {
      loss: [{ mse: 'logits' }],
      wrt: [convs[2]!, convs[4]!, 'fc.weight'],
      dims: { batch: 2 },
    };
    const feeds = randomFeeds(
      prepareForward(model, opts).model,
      'float32',
      5,
      buildGradientGraph(model, opts).parameters,
    );
    const entries = await checkGradients(model, opts, feeds, { maxCoords: 8, largest: 6, floor: 0.1, eps: 1e-2 });
    expectGrads('feature CNN', entries, 1e-2);
  });
});
