import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('LayerNormalization gradient', () => {
  it('matches central differences (float64) for x, scale and bias', async () => {
    expectGrads(
      'LayerNormalization',
      await checkOp({
        op: 'LayerNormalization',
        inputs: [{ dims: [2, 3, 4] }, { dims: [4] }, { dims: [4] }],
        attrs: { axis: -1, epsilon: 1e-5 },
      }),
      1e-6,
    );
  });
  it('normalizes over several axes without a bias', async () => {
    expectGrads(
      'LayerNormalization(axis 1)',
      await checkOp({ op: 'LayerNormalization', inputs: [{ dims: [2, 3, 4] }, { dims: [3, 4] }], attrs: { axis: 1 } }),
      1e-6,
    );
  });
});
