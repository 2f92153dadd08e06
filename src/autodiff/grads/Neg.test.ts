import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('Neg gradient', () => {
  it('matches central differences (float64)', async () => {
    expectGrads('Neg', await checkOp({ op: 'Neg', inputs: [{ dims: [2, 3] }] }), 1e-6);
  });
});
