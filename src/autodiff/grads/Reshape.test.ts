import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('Reshape gradient', () => {
  it('matches central differences (float64)', async () => {
    expectGrads(
      'Reshape',
      await checkOp({ op: 'Reshape', inputs: [{ dims: [2, 3, 4] }, { dims: [2], int64: [6, -1] }] }),
      1e-6,
    );
  });
});
