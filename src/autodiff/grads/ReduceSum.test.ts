import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('ReduceSum gradient', () => {
  it('matches central differences (float64) (opset 13 axes input)', async () => {
    expectGrads(
      'ReduceSum',
      await checkOp({
        op: 'ReduceSum',
        inputs: [{ dims: [2, 3, 4] }, { dims: [2], int64: [0, -1] }],
        attrs: { keepdims: 0 },
      }),
      1e-6,
    );
  });
  it('reduces every axis without axes', async () => {
    expectGrads('ReduceSum(all)', await checkOp({ op: 'ReduceSum', inputs: [{ dims: [2, 3] }] }), 1e-6);
  });
});
