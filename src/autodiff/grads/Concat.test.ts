import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('Concat gradient', () => {
  it('matches central differences (float64)', async () => {
    expectGrads(
      'Concat',
      await checkOp({
        op: 'Concat',
        inputs: [{ dims: [2, 1] }, { dims: [2, 3] }, { dims: [2, 2] }],
        attrs: { axis: -1 },
      }),
      1e-6,
    );
  });
});
