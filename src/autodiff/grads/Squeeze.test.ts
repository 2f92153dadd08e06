import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('Squeeze gradient', () => {
  it('matches central differences (float64)', async () => {
    expectGrads(
      'Squeeze',
      await checkOp({ op: 'Squeeze', inputs: [{ dims: [2, 1, 3] }, { dims: [1], int64: [1] }] }),
      1e-6,
    );
  });
});
