import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('Tanh gradient', () => {
  it('matches central differences (float64)', async () => {
    expectGrads('Tanh', await checkOp({ op: 'Tanh', inputs: [{ dims: [2, 3], range: [-2, 2] }] }), 1e-6);
  });
});
