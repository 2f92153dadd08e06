import { describe, it } from 'vitest';
import { checkOp, expectGrads } from '../test-helpers.js';

describe('Exp gradient', () => {
  it('matches central differences (float64)', async () => {
    expectGrads('Exp', await checkOp({ op: 'Exp', inputs: [{ dims: [2, 3] }] }), 1e-6);
  });
});
