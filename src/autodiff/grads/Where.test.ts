import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('Where gradient', () => {
  it('matches central differences (float64)', async () => {
    expectGrads(
      'Where',
      await checkOp({
        op: 'Where',
        inputs: [{ dims: [2, 3], bool: [true, false, true, false, false, true] }, { dims: [2, 3] }, { dims: [3] }],
      }),
      1e-6,
    );
  });
});
