import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('Gemm gradient', () => {
  it('matches central differences (float64) (transB, alpha, beta, broadcast C)', async () => {
    expectGrads(
      'Gemm',
      await checkOp({
        op: 'Gemm',
        inputs: [{ dims: [3, 4] }, { dims: [5, 4] }, { dims: [5] }],
        attrs: { transB: 1, alpha: 0.5, beta: { type: 'float', value: 2 } },
      }),
      1e-6,
    );
  });
  it('handles transA', async () => {
    expectGrads(
      'Gemm(transA)',
      await checkOp({
        op: 'Gemm',
        inputs: [{ dims: [4, 3] }, { dims: [4, 5] }, { dims: [3, 5] }],
        attrs: { transA: 1 },
      }),
      1e-6,
    );
  });
  it('handles both transposes without C', async () => {
    expectGrads(
      'Gemm(transA transB)',
      await checkOp({ op: 'Gemm', inputs: [{ dims: [4, 3] }, { dims: [5, 4] }], attrs: { transA: 1, transB: 1 } }),
      1e-6,
    );
  });
});
