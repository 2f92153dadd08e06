import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('Sub gradient', () => {
  it('matches central differences (float64)', async () => {
    expectGrads('Sub', await checkOp({ op: 'Sub', inputs: [{ dims: [2, 3] }, { dims: [1, 3] }] }), 1e-6);
  });
});
