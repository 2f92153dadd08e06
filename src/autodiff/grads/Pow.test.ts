import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('Pow gradient', () => {
  it('matches central differences (float64) with a constant exponent', async () => {
    expectGrads(
      'Pow',
      await checkOp({
        op: 'Pow',
        inputs: [
          { dims: [2, 3], range: [0.5, 2] },
          { dims: [], values: [3], constant: true },
        ],
      }),
      1e-6,
    );
  });
  it('uses 2x for the square (the opset-13 LayerNorm variance)', async () => {
    expectGrads(
      'Pow^2',
      await checkOp({ op: 'Pow', inputs: [{ dims: [2, 3] }, { dims: [], values: [2], constant: true }] }),
      1e-6,
    );
  });
  it('differentiates a tensor exponent too (the log quantizer 2^e)', async () => {
    expectGrads(
      'Pow(a,p)',
      await checkOp({ op: 'Pow', inputs: [{ dims: [2, 3], range: [0.5, 2] }, { dims: [3] }] }),
      1e-6,
    );
  });
});
