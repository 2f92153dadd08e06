import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('Max gradient', () => {
  it('matches central differences (float64)', async () => {
    expectGrads('Max', await checkOp({ op: 'Max', inputs: [{ dims: [2, 3] }, { dims: [3] }] }), 1e-6);
  });
});
