import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('Sqrt gradient', () => {
  it('matches central differences (float64)', async () => {
    expectGrads('Sqrt', await checkOp({ op: 'Sqrt', inputs: [{ dims: [2, 3], range: [0.5, 2] }] }), 1e-6);
  });
});
