import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('Sigmoid gradient', () => {
  it('matches central differences (float64)', async () => {
    expectGrads('Sigmoid', await checkOp({ op: 'Sigmoid', inputs: [{ dims: [2, 3], range: [-3, 3] }] }), 1e-6);
  });
});
