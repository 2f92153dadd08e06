import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('Identity gradient', () => {
  it('matches central differences (float64)', async () => {
    expectGrads('Identity', await checkOp({ op: 'Identity', inputs: [{ dims: [2, 3] }] }), 1e-6);
  });
});
