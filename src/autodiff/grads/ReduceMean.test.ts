import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('ReduceMean gradient', () => {
  it('matches central differences (float64) (opset 17 axes attribute)', async () => {
    expectGrads(
      'ReduceMean',
      await checkOp({ op: 'ReduceMean', inputs: [{ dims: [2, 3, 4] }], attrs: { axes: [-1] } }),
      1e-6,
    );
  });
  it('takes the axes input at opset 18', async () => {
    expectGrads(
      'ReduceMean(18)',
      await checkOp({
        op: 'ReduceMean',
        inputs: [{ dims: [2, 3, 4] }, { dims: [1], int64: [1] }],
        attrs: { keepdims: 0 },
        opset: 18,
      }),
      1e-6,
    );
  });
});
