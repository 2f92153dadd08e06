import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('Relu gradient', () => {
  it('matches central differences (float64)', async () => {
    expectGrads('Relu', await checkOp({ op: 'Relu', inputs: [{ dims: [3, 4] }] }), 1e-6);
  });
});
