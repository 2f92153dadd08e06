import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('Min gradient', () => {
  it('matches central differences (float64)', async () => {
    expectGrads('Min', await checkOp({ op: 'Min', inputs: [{ dims: [2, 3] }, { dims: [2, 1] }] }), 1e-6);
  });
});
