import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('Transpose gradient', () => {
  it('matches central differences (float64)', async () => {
    expectGrads(
      'Transpose',
      await checkOp({ op: 'Transpose', inputs: [{ dims: [2, 3, 4] }], attrs: { perm: [2, 0, 1] } }),
      1e-6,
    );
  });
});
