import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('Add gradient', () => {
  it('matches central differences (float64) with broadcasting on both sides', async () => {
    expectGrads('Add', await checkOp({ op: 'Add', inputs: [{ dims: [2, 1, 3] }, { dims: [4, 1] }] }), 1e-6);
  });
  it('reduces a bias over the leading axes', async () => {
    expectGrads('Add', await checkOp({ op: 'Add', inputs: [{ dims: [2, 3, 4] }, { dims: [4] }] }), 1e-6);
  });
});
