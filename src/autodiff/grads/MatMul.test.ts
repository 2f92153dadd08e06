import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('MatMul gradient', () => {
  it('matches central differences (float64) for a Linear on tokens (2-D weight)', async () => {
    expectGrads('MatMul', await checkOp({ op: 'MatMul', inputs: [{ dims: [2, 3, 4] }, { dims: [4, 5] }] }), 1e-6);
  });
  it('handles batched operands (attention)', async () => {
    expectGrads(
      'MatMul(batched)',
      await checkOp({ op: 'MatMul', inputs: [{ dims: [2, 1, 3, 4] }, { dims: [3, 4, 2] }] }),
      1e-6,
    );
  });
  it('handles 1-D operands', async () => {
    expectGrads('MatMul(1-D)', await checkOp({ op: 'MatMul', inputs: [{ dims: [4] }, { dims: [2, 4, 3] }] }), 1e-6);
  });
  it('handles a 1-D right operand', async () => {
    expectGrads('MatMul(x 1-D)', await checkOp({ op: 'MatMul', inputs: [{ dims: [2, 3, 4] }, { dims: [4] }] }), 1e-6);
  });
});
