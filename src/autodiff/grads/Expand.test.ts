import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('Expand gradient', () => {
  it('matches central differences (float64)', async () => {
    expectGrads(
      'Expand',
      await checkOp({ op: 'Expand', inputs: [{ dims: [3, 1] }, { dims: [3], int64: [2, 3, 4] }] }),
      1e-6,
    );
  });
});
