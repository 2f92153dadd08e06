import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('Abs gradient', () => {
  it('matches central differences (float64)', async () => {
    expectGrads('Abs', await checkOp({ op: 'Abs', inputs: [{ dims: [2, 3] }] }), 1e-6);
  });
});
