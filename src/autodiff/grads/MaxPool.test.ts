import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('MaxPool gradient', () => {
  it('matches central differences (float64, 2x2 stride 2 as the shipped feature CNN)', async () => {
    const c = { op: 'MaxPool', inputs: [{ dims: [2, 2, 4, 6] }], attrs: { kernel_shape: [2, 2], strides: [2, 2] } };
    expectGrads('MaxPool', await checkOp(c), 1e-6);
  });

  it('sums the gradients of overlapping windows (3x3 stride 1, padded)', async () => {
    const c = { op: 'MaxPool', inputs: [{ dims: [1, 2, 4, 4] }], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] } };
    expectGrads('MaxPool(overlap)', await checkOp(c), 1e-6);
  });
});
