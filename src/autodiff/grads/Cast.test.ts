import { describe, it } from 'vitest';
import { GraphBuilder, makeModel } from '../../onnx/builder.js';
import { dtypeCode } from '../../onnx/dtype.js';
import { checkGradients } from '../grad-check.js';
import { expectGrads, randomFeeds } from '../test-helpers.js';
import { prepareForward } from '../prepare.js';

describe('Cast gradient', () => {
  it('casts the gradient back to the input type (float32 -> float64 -> float32)', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', 'float32', [2, 3]);
    const y = b.op('Cast', [x], { to: dtypeCode('float64') });
    b.output(y);
    const model = makeModel(b.graph);
    const opts = { wrt: [x], loss: [{ mse: y }] };
    const feeds = randomFeeds(prepareForward(model, opts).model, 'float64', 5, randomFeeds(model, 'float32', 4));
    expectGrads('Cast', await checkGradients(model, opts, feeds, { eps: 1e-2, floor: 1e-2 }), 1e-3);
  });
});
