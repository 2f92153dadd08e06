import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('Softmax gradient', () => {
  it('matches central differences (float64) on the last axis', async () => {
    expectGrads('Softmax', await checkOp({ op: 'Softmax', inputs: [{ dims: [2, 5], range: [-2, 2] }] }), 1e-6);
  });
  it('handles a middle axis', async () => {
    expectGrads(
      'Softmax(axis 1)',
      await checkOp({ op: 'Softmax', inputs: [{ dims: [2, 3, 4] }], attrs: { axis: 1 } }),
      1e-6,
    );
  });
});
